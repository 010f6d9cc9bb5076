"""`sagespec data put` and `data ls`: your own data into the local object store, by S3's naming
rules, regular files only, and a local run reads it."""

import json
import re

import pytest

from helpers import fast_project_copy, run_cli, seeded_compile_cache

BUCKET = "s3://sagespec-ds-experiments-111111111111"


def test_put_a_file_a_folder_and_list_them(tmp_path):
    ws = ["--workspace", str(tmp_path / "ws")]
    data = tmp_path / "mine.csv"
    data.write_text("1,2\n3,4\n")
    done = run_cli("data", "put", str(data), f"{BUCKET}/datasets/", *ws, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == f"stored {BUCKET}/datasets/mine.csv (8 bytes from {data})\n", done.stderr
    assert run_cli("data", "put", str(data), f"{BUCKET}/datasets/mine.csv", *ws, cwd=tmp_path).stdout.startswith("unchanged ")
    data.write_text("5,6\n")
    assert run_cli("data", "put", str(data), f"{BUCKET}/datasets/mine.csv", *ws, cwd=tmp_path).stdout.startswith("replaced ")
    folder = tmp_path / "shards"
    (folder / "part").mkdir(parents=True)
    (folder / "a.csv").write_text("a\n")
    (folder / "part" / "b.csv").write_text("b\n")
    done = run_cli("data", "put", str(folder), f"{BUCKET}/shards", *ws, cwd=tmp_path)
    assert re.findall(r"^stored (\S+)", done.stdout, re.M) == [f"{BUCKET}/shards/a.csv", f"{BUCKET}/shards/part/b.csv"]
    listed = json.loads(run_cli("data", "ls", f"{BUCKET}/", "--output", "json", *ws, cwd=tmp_path).stdout)
    assert [(o["uri"], o["size"]) for o in listed] == [
        (f"{BUCKET}/datasets/mine.csv", 4),
        (f"{BUCKET}/shards/a.csv", 2),
        (f"{BUCKET}/shards/part/b.csv", 2),
    ]
    text = run_cli("data", "ls", f"{BUCKET}/shards/", *ws, cwd=tmp_path).stdout
    assert text.splitlines()[0].endswith(f"2  {BUCKET}/shards/a.csv") and len(text.splitlines()) == 2


def test_bad_names_and_links_are_refused_and_nothing_is_stored(tmp_path):
    ws = ["--workspace", str(tmp_path / "ws")]
    data = tmp_path / "mine.csv"
    data.write_text("1\n")
    for uri, says in [
        ("s3://Bad_Bucket/x.csv", "'Bad_Bucket' is not a valid S3 bucket name"),
        ("s3://192.168.1.1/x.csv", "is not a valid S3 bucket name"),
        ("https://example.com/x.csv", "is not an s3:// URI"),
        (f"{BUCKET}", "names a bucket but no key"),
        (f"{BUCKET}/{'k' * 1025}", "S3 keys are at most 1024"),
    ]:
        done = run_cli("data", "put", str(data), uri, *ws, cwd=tmp_path)
        assert done.returncode == 2 and "error[E6017]" in done.stderr and says in done.stderr, (uri, done.stderr)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for S3\n")
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n")
    (folder / "leak.txt").symlink_to(secret)
    done = run_cli("data", "put", str(folder), f"{BUCKET}/shards/", *ws, cwd=tmp_path)
    assert done.returncode == 2 and "leak.txt is a symbolic link" in done.stderr and "Traceback" not in done.stderr
    assert run_cli("data", "ls", *ws, cwd=tmp_path).stdout == "no objects under s3://\n"  # a.csv was not stored either


@pytest.mark.slow
def test_a_local_run_reads_the_data_you_put_and_iam_still_decides_where(tmp_path):
    project = fast_project_copy(tmp_path)
    ws = ["--workspace", str(seeded_compile_cache(tmp_path / "ws", project, "pipelines/california_housing.yaml"))]
    mine = tmp_path / "my_housing.tgz"
    mine.write_bytes((project / "pipelines" / "data" / "cal_housing.tgz").read_bytes())
    # Where the role may read (the rendered policies grant the InputData default's key): the run
    # takes your object and seeds nothing.
    default = "s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz"
    assert run_cli("data", "put", str(mine), default, *ws, cwd=project).returncode == 0
    done = run_cli("run", "pipelines/california_housing.yaml", *ws, cwd=project, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seeded" not in done.stdout and ": Succeeded" in done.stdout
    # Anywhere else, the execution role is denied as AWS would deny it (least privilege).
    other = "s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/my_housing.tgz"
    assert run_cli("data", "put", str(mine), other, *ws, cwd=project).returncode == 0
    done = run_cli("run", "pipelines/california_housing.yaml", "--param", f"InputData={other}", *ws, cwd=project, timeout=600)
    assert done.returncode == 1
    assert f"is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::{other[5:]}" in done.stdout
