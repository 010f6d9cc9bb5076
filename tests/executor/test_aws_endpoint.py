"""The local AWS endpoint a run's jobs call: S3 over the local object store and SageMaker over
the local control plane, each request signed with credentials the run issued to the job and
decided by sagespec's IAM as the job's role (sagespec.backends.local.aws_endpoint).

The clients are the real ones: boto3 in a child process whose environment is exactly what a job
gets (nothing of this machine's AWS settings), and the AWS CLI where it is installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import ROOT, places, run_cli
from sagespec.backends.local.aws_endpoint.server import LocalAwsEndpoint
from sagespec.backends.local.database import connect
from sagespec.backends.local.executor.isolation import bubblewrap, namespace
from sagespec.backends.local.objects import ObjectStore
from sagespec.backends.local.policies import write_policy

BUCKET = "sagespec-ds-experiments-111111111111"
ROLE = "arn:aws:iam::111111111111:role/job-role"
FIXTURE = ROOT / "tests" / "fixtures" / "notebook_style" / "abalone_boto3"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def store(workspace: Path) -> ObjectStore:
    return ObjectStore(workspace, connect(workspace))


@pytest.fixture
def endpoint(workspace: Path, store: ObjectStore):
    with LocalAwsEndpoint(workspace, places()) as running:
        yield running


def job(endpoint: LocalAwsEndpoint, tmp_path: Path, code: str, role: str = ROLE, env: dict | None = None) -> subprocess.CompletedProcess:
    """`code` run as a job of the run would run it: its own AWS variables only."""
    work = tmp_path / f"job-{len(endpoint.issued)}"
    work.mkdir()
    variables = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    variables.update(endpoint.environment(role, "SageMaker", work, work / "step.log"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=variables, cwd=work, capture_output=True, text=True, timeout=120
    )


def test_a_jobs_boto3_reads_and_writes_the_objects_of_the_local_store(endpoint, store, tmp_path):
    store.put(f"s3://{BUCKET}/data/in.csv", b"1,2,3\n")
    done = job(
        endpoint,
        tmp_path,
        f"""
        import boto3, os
        from boto3.s3.transfer import TransferConfig
        s3 = boto3.client("s3")
        print(s3.get_object(Bucket="{BUCKET}", Key="data/in.csv")["Body"].read().decode().strip())
        print(s3.get_object(Bucket="{BUCKET}", Key="data/in.csv", Range="bytes=2-2")["Body"].read().decode())
        boto3.resource("s3").Bucket("{BUCKET}").download_file("data/in.csv", "in.csv")
        s3.put_object(Bucket="{BUCKET}", Key="out/small.txt", Body=b"hello")
        with open("big.bin", "wb") as f:
            f.write(bytes(range(256)) * 40960)  # 10 MiB: a multipart upload of two parts
        s3.upload_file("big.bin", "{BUCKET}", "out/big.bin", Config=TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20))
        s3.copy_object(Bucket="{BUCKET}", Key="out/copy.txt", CopySource={{"Bucket": "{BUCKET}", "Key": "out/small.txt"}})
        print(s3.head_object(Bucket="{BUCKET}", Key="out/big.bin")["ContentLength"])
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket="{BUCKET}", Prefix="out/", PaginationConfig={{"PageSize": 2}})
        print(sorted(o["Key"] for page in pages for o in page["Contents"]))
        s3.delete_objects(Bucket="{BUCKET}", Delete={{"Objects": [{{"Key": "out/copy.txt"}}]}})
        import urllib.request
        print(urllib.request.urlopen(s3.generate_presigned_url("get_object", Params={{"Bucket": "{BUCKET}", "Key": "out/small.txt"}})).read().decode())
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "1,2,3",
        "2",
        str(10 * 2**20),
        "['out/big.bin', 'out/copy.txt', 'out/small.txt']",
        "hello",
    ]
    # What the job wrote is in the store (the runner, `sagespec data` and the next run see it); what it deleted is gone.
    assert store.get(f"s3://{BUCKET}/out/small.txt") == b"hello"
    assert store.get(f"s3://{BUCKET}/out/big.bin") == bytes(range(256)) * 40960
    assert not store.exists(f"s3://{BUCKET}/out/copy.txt")


def test_what_changes_in_the_store_between_calls_is_what_the_next_call_sees(endpoint, store, tmp_path):
    store.put(f"s3://{BUCKET}/a.txt", b"one")
    first = job(endpoint, tmp_path, f'import boto3; print(boto3.client("s3").get_object(Bucket="{BUCKET}", Key="a.txt")["Body"].read())')
    assert first.stdout.strip() == "b'one'", first.stderr
    store.put(f"s3://{BUCKET}/a.txt", b"two")
    store.put(f"s3://{BUCKET}/b.txt", b"new")
    store.delete(f"s3://{BUCKET}/a.txt")
    second = job(
        endpoint, tmp_path, f'import boto3; print([o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="{BUCKET}")["Contents"]])'
    )
    assert second.stdout.strip() == "['b.txt']", second.stderr


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed here")
def test_the_aws_cli_copies_to_and_from_the_store(endpoint, store, tmp_path):
    store.put(f"s3://{BUCKET}/data/in.csv", b"a,b\n")
    done = job(
        endpoint,
        tmp_path,
        f"""
        import subprocess
        subprocess.run(["aws", "s3", "cp", "s3://{BUCKET}/data/in.csv", "got.csv"], check=True)
        subprocess.run(["aws", "s3", "cp", "got.csv", "s3://{BUCKET}/out/put.csv"], check=True)
        print(subprocess.run(["aws", "s3", "ls", "s3://{BUCKET}/out/"], check=True, capture_output=True, text=True).stdout)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "put.csv" in done.stdout
    assert store.get(f"s3://{BUCKET}/out/put.csv") == b"a,b\n"


def test_the_sagemaker_sdk_in_a_job_reads_writes_and_finds_its_default_bucket_here(endpoint, store, tmp_path):
    """The SDK asks STS for the default bucket's account at an endpoint it names itself
    (sts.<region>.amazonaws.com): that call comes here too, and nothing leaves the machine."""
    store.put(f"s3://{BUCKET}/data/in.csv", b"1,2,3\n")
    done = job(
        endpoint,
        tmp_path,
        f"""
        from sagemaker.s3 import S3Downloader, S3Uploader
        import sagemaker
        print(S3Downloader.read_file("s3://{BUCKET}/data/in.csv").strip())
        with open("up.txt", "w") as f:
            f.write("up")
        print(S3Uploader.upload("up.txt", "s3://{BUCKET}/up"))
        print(sagemaker.Session().default_bucket())
        """,
        env={"SAGEMAKER_SUPPRESS_V2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if not line.startswith("sagemaker.config")] == [
        "1,2,3",
        f"s3://{BUCKET}/up/up.txt",
        "sagemaker-us-east-1-111111111111",  # the account of the job's role, as STS answers it
    ]
    assert store.get(f"s3://{BUCKET}/up/up.txt") == b"up"
    assert "[local AWS endpoint] STS GetCallerIdentity -> 200" in (tmp_path / "job-0" / "step.log").read_text()


def test_an_aws_endpoint_named_in_the_code_is_the_local_one_too(endpoint, store, tmp_path):
    store.put(f"s3://{BUCKET}/a.txt", b"one")
    code = f'import boto3; print(boto3.client("s3", endpoint_url="https://s3.us-east-1.amazonaws.com").get_object(Bucket="{BUCKET}", Key="a.txt")["Body"].read())'
    done = job(endpoint, tmp_path, code)
    assert done.stdout.strip() == "b'one'", done.stderr


def test_in_the_variables_mode_both_guards_load_and_python_starts_cleanly(endpoint, tmp_path):
    """The variables mode's /opt/ml guard and the AWS endpoint guard are both a sitecustomize:
    each loads the next, and a job's Python starts without "Error in sitecustomize"."""
    from sagespec.backends.local.executor.isolation import MODES

    work = tmp_path / "work"
    work.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **endpoint.environment(ROLE, "SageMaker", work)}
    program = (
        "import botocore.client\n"
        "print(botocore.client.ClientCreator.create_client.__qualname__)\n"
        "try:\n    open('/opt/ml/input/config/hyperparameters.json')\nexcept PermissionError as e:\n    print('refused')\n"
    )
    launch = MODES["variables"].launch([sys.executable, "-c", program], env, work, [], work)
    done = subprocess.run(launch.argv, env={**env, **launch.env}, cwd=launch.cwd, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["_patch.<locals>.create_client", "refused"], done.stderr
    assert "Error in sitecustomize" not in done.stderr


def test_pandas_reads_and_writes_s3_urls_through_s3fs(endpoint, store, tmp_path):
    pytest.importorskip("s3fs")  # not a sagespec dependency: checked where it is installed
    store.put(f"s3://{BUCKET}/data/in.csv", b"x,y\n1,2\n3,4\n")
    code = f'import pandas as pd; df = pd.read_csv("s3://{BUCKET}/data/in.csv"); print(df.sum().to_dict()); df.to_csv("s3://{BUCKET}/out/o.csv", index=False)'
    done = job(endpoint, tmp_path, code)
    assert done.stdout.strip() == "{'x': 4, 'y': 6}", done.stderr
    assert store.get(f"s3://{BUCKET}/out/o.csv") == b"x,y\n1,2\n3,4\n"


def test_credentials_sagespec_did_not_issue_are_refused_as_aws_refuses_them(endpoint, tmp_path):
    code = f'import boto3; boto3.client("s3").list_objects_v2(Bucket="{BUCKET}")'
    unknown = job(endpoint, tmp_path, code, env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"})
    assert "InvalidAccessKeyId" in unknown.stderr and "does not exist in our records" in unknown.stderr
    wrong_secret = job(endpoint, tmp_path, code, env={"AWS_SECRET_ACCESS_KEY": "x" * 40})
    assert "SignatureDoesNotMatch" in wrong_secret.stderr
    no_token = job(endpoint, tmp_path, code, env={"AWS_SESSION_TOKEN": "forged"})
    assert "InvalidToken" in no_token.stderr
    sagemaker = job(
        endpoint, tmp_path, "import boto3; boto3.client('sagemaker').list_endpoints()", env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}
    )
    assert "UnrecognizedClientException" in sagemaker.stderr
    assert endpoint.url.startswith("http://127.0.0.1:")  # loopback only


def test_a_presigned_url_past_its_expiry_is_refused(endpoint, store, tmp_path):
    store.put(f"s3://{BUCKET}/a.txt", b"one")
    done = job(
        endpoint,
        tmp_path,
        f"""
        import boto3, time, urllib.error, urllib.request
        url = boto3.client("s3").generate_presigned_url("get_object", Params={{"Bucket": "{BUCKET}", "Key": "a.txt"}}, ExpiresIn=4)
        print(urllib.request.urlopen(url).read())
        time.sleep(5.5)  # X-Amz-Date has whole seconds: past 4 s whatever the fraction it was signed at
        try:
            urllib.request.urlopen(url)
        except urllib.error.HTTPError as exc:
            print(exc.code, exc.read().decode())
        """,
    )
    assert done.returncode == 0, done.stderr
    fresh, expired = done.stdout.split("\n", 1)
    assert fresh == "b'one'"
    assert expired.startswith("403 ") and "<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired


def test_a_call_the_jobs_role_could_not_make_on_aws_is_denied_with_awss_message(endpoint, store, workspace, tmp_path):
    conn = connect(workspace)
    # The role may read data/ only; the bucket policy denies everyone the secrets/ prefix.
    write_policy(
        conn,
        f"{ROLE}#ReadData",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]},
        "test",
        "111111111111",
    )
    write_policy(
        conn,
        f"arn:aws:s3:::{BUCKET}",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "NoSecrets", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/secrets/*"}
            ],
        },
        "test",
        "111111111111",
    )
    store.put(f"s3://{BUCKET}/data/in.csv", b"ok")
    store.put(f"s3://{BUCKET}/secrets/key.txt", b"no")
    done = job(
        endpoint,
        tmp_path,
        f"""
        import boto3, botocore
        s3 = boto3.client("s3")
        print(s3.get_object(Bucket="{BUCKET}", Key="data/in.csv")["Body"].read().decode())
        for call in (lambda: s3.put_object(Bucket="{BUCKET}", Key="data/out.csv", Body=b"x"),
                     lambda: s3.get_object(Bucket="{BUCKET}", Key="secrets/key.txt")):
            try:
                call()
            except botocore.exceptions.ClientError as exc:
                print(exc.response["Error"]["Code"], "|", exc.response["Error"]["Message"])
        """,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    session = "arn:aws:sts::111111111111:assumed-role/job-role/SageMaker"
    assert lines[0] == "ok"
    assert lines[1] == (
        f"AccessDenied | User: {session} is not authorized to perform: s3:PutObject on resource: "
        f"arn:aws:s3:::{BUCKET}/data/out.csv because no identity-based policy allows the s3:PutObject action"
    )
    assert lines[2].startswith(
        f"AccessDenied | User: {session} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::{BUCKET}/secrets/key.txt with an explicit deny in a resource-based policy"
    )
    assert not store.exists(f"s3://{BUCKET}/data/out.csv")  # nothing was written
    log = (tmp_path / "job-0" / "step.log").read_text()
    assert "[local AWS endpoint] AccessDenied: User: " in log


def signed(endpoint: LocalAwsEndpoint, method: str, path: str, headers: dict | None = None, body: bytes = b"", service: str = "s3"):
    """A request signed with a job's credentials by botocore's SigV4 signer, sent as it is: for
    the forms an SDK would not send (a crafted Host, repeated parameters, two subresources)."""
    import urllib.error
    import urllib.request

    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    issued = endpoint.issue(ROLE, "SageMaker")
    request = AWSRequest(method=method, url=endpoint.url + path, data=body, headers=headers or {})
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(issued.access_key, issued.secret, issued.token), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=body or None, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(sent) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_requests_moto_would_read_otherwise_than_the_decision_are_refused_or_read_as_decided(endpoint, store, workspace):
    """What IAM decides on is what runs: a virtual-host Host header, a repeated parameter, two
    subresources or a copy source with a fragment cannot make moto act on another object."""
    conn = connect(workspace)
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    write_policy(conn, f"{ROLE}#All", allow_all, "test", "111111111111")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/secrets/*"}
    write_policy(conn, f"arn:aws:s3:::{BUCKET}", {"Version": "2012-10-17", "Statement": [deny]}, "test", "111111111111")
    store.put(f"s3://{BUCKET}/secrets/key.txt", b"TOPSECRET")
    store.put(f"s3://{BUCKET}/data/a.csv", b"a")
    assert signed(endpoint, "GET", f"/{BUCKET}/secrets/key.txt")[0] == 403
    # Host names the bucket virtual-host style; the path names another "bucket": decided and served by the path.
    status, answer = signed(endpoint, "GET", "/secrets/key.txt", {"Host": f"{BUCKET}.s3.amazonaws.com"})
    assert "TOPSECRET" not in answer and status in (400, 403, 404)
    status, answer = signed(endpoint, "GET", f"/{BUCKET}?list-type=2&prefix=secrets%2F&prefix=data%2F")
    assert (status, "<Code>InvalidArgument</Code>") == (400, answer[answer.index("<Code>") : answer.index("</Code>") + 7])
    status, answer = signed(endpoint, "PUT", f"/{BUCKET}/data/a.csv?tagging&acl", body=b"x")
    assert status == 501 and "NotImplemented" in answer
    status, answer = signed(endpoint, "PUT", f"/{BUCKET}/data/out.csv", {"x-amz-copy-source": f"/{BUCKET}/secrets/key.txt#.csv"})
    assert status == 400 and "InvalidArgument" in answer
    assert not store.exists(f"s3://{BUCKET}/data/out.csv")


def test_reading_an_sse_kms_object_needs_its_key_also_when_it_is_copied_elsewhere(workspace, store, tmp_path):
    from sagespec.accounts.places import Places
    from sagespec.aws.partitions import partition

    key = "arn:aws:kms:us-east-1:111111111111:key/0d8f6a2e-8c1b-4c7e-9a55-1f2e3d4c5b6a"
    conn = connect(workspace)
    s3_only = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    write_policy(conn, f"{ROLE}#S3Only", s3_only, "test", "111111111111")
    store.put("s3://secure-bucket-111111111111/model.tar.gz", b"weights")
    with LocalAwsEndpoint(workspace, Places(partition("aws"), "us-east-1", {"secure-bucket-111111111111": key})) as running:
        done = job(
            running,
            tmp_path,
            f"""
            import boto3, botocore
            s3 = boto3.client("s3")
            for call in (lambda: s3.get_object(Bucket="secure-bucket-111111111111", Key="model.tar.gz"),
                         lambda: s3.copy_object(Bucket="{BUCKET}", Key="copy.tar.gz",
                                                CopySource={{"Bucket": "secure-bucket-111111111111", "Key": "model.tar.gz"}})):
                try:
                    call()
                except botocore.exceptions.ClientError as exc:
                    print(exc.response["Error"]["Message"].split(" because")[0])
            """,
        )
    assert (
        done.stdout.splitlines()
        == [f"User: arn:aws:sts::111111111111:assumed-role/job-role/SageMaker is not authorized to perform: kms:Decrypt on resource: {key}"]
        * 2
    ), done.stderr
    assert not store.exists(f"s3://{BUCKET}/copy.tar.gz")


def test_a_malformed_sagemaker_request_is_a_validation_error_not_a_crash(endpoint):
    target = {"X-Amz-Target": "SageMaker.CreateModel", "Content-Type": "application/x-amz-json-1.1"}
    status, answer = signed(endpoint, "POST", "/", target, b'{"PrimaryContainer": {"Image": "i"}}', service="sagemaker")
    assert status == 400 and json.loads(answer) == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value null at 'ModelName' failed to satisfy constraint: Member must not be null",
    }
    status, answer = signed(endpoint, "POST", "/", target, b"[]", service="sagemaker")
    assert status == 400 and json.loads(answer)["__type"] == "SerializationException"


def test_a_jobs_environment_keeps_a_proxy_away_from_its_endpoint(endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "internal.example")
    env = endpoint.environment(ROLE, "SageMaker", tmp_path)
    assert env["NO_PROXY"] == "internal.example,127.0.0.1" and "127.0.0.1" in env["no_proxy"]


def test_sagemaker_calls_outside_what_the_local_control_plane_answers_are_refused_by_name(endpoint, tmp_path):
    done = job(
        endpoint,
        tmp_path,
        """
        import boto3, botocore
        for call in (lambda: boto3.client("sagemaker").create_training_job(TrainingJobName="t", RoleArn="arn:aws:iam::111111111111:role/r",
                         AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": "i"}, OutputDataConfig={"S3OutputPath": "s3://b/o"},
                         ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}, StoppingCondition={"MaxRuntimeInSeconds": 60}),
                     lambda: boto3.client("sqs").list_queues()):
            try:
                call()
            except botocore.exceptions.ClientError as exc:
                print(exc.response["Error"]["Code"], "|", exc.response["Error"]["Message"])
        print(boto3.client("sagemaker").list_endpoints()["Endpoints"])
        """,
    )
    assert done.returncode == 0, done.stderr
    refused, other_service, listed = done.stdout.splitlines()
    assert refused.startswith("UnknownOperationException | the local SageMaker endpoint does not serve CreateTrainingJob; it serves ")
    assert "sqs is not served here" in other_service
    assert listed == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("mode", [namespace.MODE, bubblewrap.MODE], ids=lambda m: m.name)
def test_notebook_scripts_that_call_s3_themselves_run_unchanged_and_a_missing_grant_fails_their_step(tmp_path, mode):
    if mode.unavailable():
        pytest.skip(f"no {mode.name} mode here: {mode.unavailable()}")
    project = tmp_path / "abalone_boto3"
    shutil.copytree(FIXTURE, project)
    subprocess.run(
        [sys.executable, str(ROOT / "tests/fixtures/notebook_style/abalone_paths/generate_data.py"), "pipelines/data"],
        cwd=project,
        check=True,
    )
    # This machine's own AWS settings (keys, a service endpoint) never reach a job: it would fail with them.
    host = {"AWS_ACCESS_KEY_ID": "AKIAHOSTKEY000000000", "AWS_SECRET_ACCESS_KEY": "host", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}
    host["SAGESPEC_ISOLATION"] = mode.name
    done = run_cli("run", "pipelines/abalone.yaml", cwd=project, env=host)
    assert done.returncode == 0, done.stdout + done.stderr
    workspace = project / ".sagespec"
    store = ObjectStore(workspace, connect(workspace))
    assert json.loads(store.get(f"s3://{BUCKET}/abalone-boto3/reports/counts.json")) == {"train": 480, "test": 120}
    execution = next((workspace / "executions").iterdir())
    check = json.loads((execution / "AbaloneCheck" / "output" / "check" / "check.json").read_text())
    # The check step read its own execution through SageMaker's API: running, the step before it done.
    execution = {"status": "Executing", "steps": {"AbaloneProcess": "Succeeded", "AbaloneCheck": "Executing"}}
    assert check == {"reports": ["abalone-boto3/reports/counts.json"], "test_rows": 120, "execution": execution}

    # Governed by an accounts file: the role's policies grant what the definition declares, and the
    # input the script downloads itself is not declared, so its download is denied, as on AWS.
    accounts = (ROOT / "tests/fixtures/notebook_style/abalone_builtin/pipelines/accounts.yaml").read_text()
    (project / "pipelines" / "accounts.yaml").write_text(
        accounts.replace("model_package_groups: [abalone-builtin]", "model_package_groups: []")
    )
    denied = run_cli("run", "pipelines/abalone.yaml", cwd=project, env={"SAGESPEC_ISOLATION": mode.name})
    assert denied.returncode == 1
    assert (
        "step AbaloneProcess failed: AlgorithmError: preprocessing.py exited with status 1 (its AWS calls were denied: "
        "User: arn:aws:sts::111111111111:assumed-role/sagespec-data-science-execution/SageMaker is not authorized to perform: "
        f"s3:GetObject on resource: arn:aws:s3:::{BUCKET}/abalone-boto3/abalone.csv because no identity-based policy allows"
    ) in denied.stderr
