"""The compiled California housing definition is the contract: golden file, determinism, offline."""

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from helpers import offline_compiles
from sagespec.compiler import compile_spec
from sagespec.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "california_housing.definition.json"


def test_definition_matches_golden_file(housing):
    if os.environ.get("SAGESPEC_UPDATE_GOLDEN"):
        GOLDEN.write_text(housing.definition_json)
    assert housing.definition_json == GOLDEN.read_text(), (
        "compiled definition changed; if intended, rerun with SAGESPEC_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("name", ["xgboost_housing", "breast_cancer", "california_housing_fast"])
def test_every_bundled_definition_matches_its_golden_file(name):
    """Every bundled pipeline (tuning, transform, inference code): the service-model checks and the
    SDK v3 equivalence test (tests/compiler/test_sdk_equivalence.py) read them too."""
    golden = GOLDEN.with_name(f"{name}.definition.json")
    result = load_spec(ROOT / "pipelines" / f"{name}.yaml")
    assert result.ok
    compiled = compile_spec(result).definition_json
    if os.environ.get("SAGESPEC_UPDATE_GOLDEN"):
        golden.write_text(compiled)
    assert compiled == golden.read_text(), "compiled definition changed; if intended, rerun with SAGESPEC_UPDATE_GOLDEN=1"


@pytest.mark.slow
def test_cli_compiles_identically_twice_without_credentials_or_network(tmp_path):
    outputs = []
    for done in offline_compiles(tmp_path, "pipelines/california_housing.yaml"):
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == GOLDEN.read_text()


def copy_project(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "pipelines", "training_code"):
        source = ROOT / name
        shutil.copytree(source, target / name) if source.is_dir() else shutil.copy(source, target / name)
    return target


def archive_members(body: bytes) -> dict:
    """The SDK stamps tar and gzip headers with times; what matters is which files with which bytes."""
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_code_keys_do_not_depend_on_where_the_project_lives_or_on_caches(tmp_path, housing):
    copy = copy_project(tmp_path / "elsewhere" / "project")
    (copy / "training_code" / "__pycache__").mkdir(exist_ok=True)
    (copy / "training_code" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"stale bytecode")
    (copy / "training_code" / ".DS_Store").write_bytes(b"finder")
    moved = compile_spec(load_spec(copy / "pipelines" / "california_housing.yaml"))
    assert moved.definition_json == housing.definition_json


def test_code_change_changes_the_code_key(tmp_path, housing):
    copy = copy_project(tmp_path / "project")
    with open(copy / "training_code" / "train.py", "a") as handle:
        handle.write("\n# a change\n")
    changed = compile_spec(load_spec(copy / "pipelines" / "california_housing.yaml"))
    old = {u.key for u in housing.uploads}
    new = {u.key for u in changed.uploads}
    changed_keys = new - old
    assert len(changed_keys) == 1 and changed_keys.pop().endswith("/sourcedir.tar.gz")


def test_uploads_are_the_code_the_definition_points_at(housing):
    text = housing.definition_json
    assert {u.uri for u in housing.uploads} == {u.uri for u in housing.uploads if u.uri in text}
    names = sorted(u.key.rsplit("/", 1)[1] for u in housing.uploads)
    assert names == ["preprocess.py", "runproc.sh", "sourcedir.tar.gz", "sourcedir.tar.gz"]  # evaluation: TensorFlowProcessor
    preprocess = next(u for u in housing.uploads if u.key.endswith("preprocess.py"))
    assert preprocess.body == (ROOT / "training_code" / "preprocess.py").read_bytes()


def test_compile_cache_returns_the_same_definition_without_the_sdk(tmp_path, housing_result, housing):
    first = compile_spec(housing_result, tmp_path)
    assert not first.from_cache
    again = compile_spec(housing_result, tmp_path)
    assert again.from_cache and again.definition_json == housing.definition_json
    for cached, fresh in zip(again.uploads, housing.uploads, strict=True):
        assert cached.uri == fresh.uri
        if cached.key.endswith(".tar.gz"):
            assert archive_members(cached.body) == archive_members(fresh.body)
        else:
            assert cached.body == fresh.body


def test_source_archive_holds_the_project_files_and_no_caches(housing):
    # the training job's archive: the one its sagemaker_submit_directory names
    train = next(s for s in housing.definition["Steps"] if s["Type"] == "Training")
    submitted = json.loads(train["Arguments"]["HyperParameters"]["sagemaker_submit_directory"])
    members = archive_members(next(u for u in housing.uploads if u.uri == submitted).body)
    assert sorted(members) == ["evaluate.py", "preprocess.py", "requirements.txt", "train.py"]
    assert members["train.py"] == (ROOT / "training_code" / "train.py").read_bytes()


def test_sdk_speedups_apply_to_the_pinned_sdk_and_are_undone():
    import sagemaker.utils

    from sagespec.compiler.offline import sdk_speedups

    before = sagemaker.utils._botocore_resolver
    with sdk_speedups() as speedups:
        assert sorted(speedups.applied) == [
            "sagemaker.session.validate_sagemaker_config",
            "sagemaker.utils._botocore_resolver",
            "sagemaker.utils.validate_sagemaker_config",
        ]
        assert sagemaker.utils._botocore_resolver() is sagemaker.utils._botocore_resolver()
    assert sagemaker.utils._botocore_resolver is before


def test_every_session_of_a_compile_decodes_the_service_model_once_and_the_loader_is_restored(monkeypatch):
    """boto3 gives each session its own botocore loader; within a compile they share what they
    read (the SDK makes three sessions of six clients each)."""
    import boto3
    from botocore.loaders import Loader

    from sagespec.compiler import offline

    monkeypatch.setattr(offline, "_SERVICE_DATA", {})
    decoded = []
    original = Loader.load_data_with_path
    monkeypatch.setattr(Loader, "load_data_with_path", lambda self, name: decoded.append(name) or original(self, name))
    before = Loader.load_service_model
    with offline.shared_service_data():
        for _ in range(3):
            boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1").client("sagemaker")
    assert Loader.load_service_model is before
    assert decoded.count("sagemaker/2017-07-24/service-2") == 1


def test_the_offline_build_patch_applies_to_the_pinned_sdk_hashes_paths_as_written_and_is_undone(tmp_path):
    """The SDK is given the staged copy's paths; its code keys are hashed over the paths as the
    spec writes them, so the same code in any scratch folder gets the same key."""
    from sagemaker.workflow import utilities

    from sagespec.compiler.offline import offline_build

    for scratch in (tmp_path / "one", tmp_path / "two" / "deeper"):
        (scratch / "training_code").mkdir(parents=True)
        (scratch / "training_code" / "train.py").write_text("print('hi')\n")
    from sagemaker.model_monitor.clarify_model_monitoring import ClarifyModelMonitor

    before = utilities._hash_file_or_dir, utilities.hash_files_or_dirs, ClarifyModelMonitor._upload_analysis_config
    keys = []
    for scratch in (tmp_path / "one", tmp_path / "two" / "deeper"):
        with offline_build("v2", scratch) as patches:
            assert patches.applied == [
                "sagemaker.workflow.utilities._hash_file_or_dir",
                "sagemaker.workflow.utilities.hash_files_or_dirs",
                "sagemaker.model_monitor.clarify_model_monitoring.ClarifyModelMonitor._upload_analysis_config",
            ]
            # a FrameworkProcessor's code and source_dir: "train.py" sorts before "training_code"
            # as written, after it as staged ("/tmp/..."); the SDK sorts the paths it is given
            keys.append(utilities.hash_files_or_dirs(["train.py", str(scratch / "training_code")]))
    assert (utilities._hash_file_or_dir, utilities.hash_files_or_dirs, ClarifyModelMonitor._upload_analysis_config) == before
    assert keys[0] == keys[1]
    # the bare name is looked up in the project, not in the folder sagespec happens to run in
    # (here one holding a train.py of its own)
    elsewhere = Path.cwd()
    try:
        os.chdir(tmp_path / "one" / "training_code")
        with offline_build("v2", tmp_path / "one"):
            assert utilities.hash_files_or_dirs(["train.py", str(tmp_path / "one" / "training_code")]) == keys[0]
    finally:
        os.chdir(elsewhere)
    # exactly the key the SDK gives a build run from the project folder with the relative paths
    previous = Path.cwd()
    try:
        os.chdir(tmp_path / "one")
        assert keys[0] == utilities.hash_files_or_dirs(["train.py", "training_code"])
    finally:
        os.chdir(previous)


def test_the_trusted_sdk_config_is_valid_for_the_sdk():
    """offline.sdk_speedups skips re-validating SDK_CONFIG; the SDK's own validator accepts it."""
    from sagemaker.config import validate_sagemaker_config

    from sagespec.compiler.offline import SDK_CONFIG

    validate_sagemaker_config(SDK_CONFIG)  # raises jsonschema.ValidationError when invalid
