"""Which SDK compiles: the installed one; asking for the other is a clear error, not a crash.
And the v3 backend's content-hash keys, which need no SDK to check."""

import hashlib

import pytest

from helpers import ROOT, compile_here
from sagespec.compiler.compiled import Upload
from sagespec.compiler.offline import OfflineAws
from sagespec.compiler.sdk import SdkUnavailable, choose, installed, installed_version
from sagespec.compiler.v3.session import content_hash_keys


def test_the_other_sdk_is_refused_with_what_is_installed_and_how_to_get_it():
    other = "v3" if installed() == "v2" else "v2"
    done = compile_here("compile", "--sdk", other, "pipelines/california_housing.yaml", cwd=ROOT)
    assert done.returncode != 0
    assert "error[E5011]" in done.stderr and f"sagemaker {installed_version()}" in done.stderr
    assert f"--sdk {other} needs SageMaker Python SDK {other}" in done.stderr and f"compile with --sdk {installed()}" in done.stderr
    assert done.stderr.startswith("pipelines/california_housing.yaml:")  # the spec it was compiling


def test_sagespec_sdk_confirms_like_the_option(monkeypatch, tmp_path):
    from sagespec.context import Context

    monkeypatch.setenv("SAGESPEC_SDK", installed())
    assert choose(Context.at(ROOT, tmp_path).sdk) == installed()
    monkeypatch.setenv("SAGESPEC_SDK", "v4")
    with pytest.raises(SdkUnavailable, match="unknown SDK 'v4': choose one of v2, v3"):
        choose(Context.at(ROOT, tmp_path).sdk)


def _definition(code_uri: str, drivers_uri: str) -> dict:
    channel = lambda name, uri: {"ChannelName": name, "DataSource": {"S3DataSource": {"S3Uri": uri}}}  # noqa: E731
    return {
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "OutputDataConfig": {"S3OutputPath": "s3://b/p/"},
                    "InputDataConfig": [
                        channel("train", "s3://b/p/data/train"),
                        channel("code", code_uri),
                        channel("sm_drivers", drivers_uri),
                    ],
                },
            }
        ]
    }


def _offline(uploads: dict[str, bytes]) -> OfflineAws:
    offline = OfflineAws(region="us-east-1", buckets=("b",))
    for key, body in uploads.items():
        offline.uploads[f"s3://b/{key}"] = Upload("b", key, body, {"SSEKMSKeyId": "k"})
    return offline


def test_timestamped_code_uploads_move_to_content_keys_and_bytecode_stays_behind():
    stamp = "p/train/train-20261204182302/input"
    offline = _offline(
        {
            f"{stamp}/code/train.py": b"print(1)",
            f"{stamp}/sm_drivers/sm_train.sh": b"#!/bin/bash",
            f"{stamp}/sm_drivers/common/__pycache__/utils.cpython-311.pyc": b"bytecode",
            "p/data/train/x.csv": b"1,2",
        }
    )
    definition = content_hash_keys(_definition(f"s3://b/{stamp}/code", f"s3://b/{stamp}/sm_drivers"), offline, "s3://b/p/pipe/code")
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in definition["Steps"][0]["Arguments"]["InputDataConfig"]}
    code_hash = hashlib.sha256(b"train.py\0print(1)\0").hexdigest()
    assert channels == {"train": "s3://b/p/data/train", "code": f"s3://b/p/pipe/code/{code_hash}", "sm_drivers": channels["sm_drivers"]}
    assert channels["sm_drivers"].startswith("s3://b/p/pipe/code/")
    assert sorted(offline.uploads) == sorted(
        [f"{channels['code']}/train.py", f"{channels['sm_drivers']}/sm_train.sh", "s3://b/p/data/train/x.csv"]
    )
    assert offline.uploads[f"{channels['code']}/train.py"].extra == {"SSEKMSKeyId": "k"}  # replayed as the SDK asked


def test_the_same_code_at_another_time_gets_the_same_key():
    def keys(stamp: str) -> list[str]:
        offline = _offline({f"p/t-{stamp}/input/code/train.py": b"print(1)", f"p/t-{stamp}/input/sm_drivers/d.sh": b"x"})
        content_hash_keys(_definition(f"s3://b/p/t-{stamp}/input/code", f"s3://b/p/t-{stamp}/input/sm_drivers"), offline, "s3://b/p/x/code")
        return sorted(offline.uploads)

    assert keys("20261204182302") == keys("20261205090000")


def test_every_class_location_resolves_in_the_installed_sdk():
    """compiler/sdk.py's table names where each SDK keeps what the shared builders build: a
    release that moves one fails here, not in a user's compile."""
    from sagespec.compiler.offline import default_region
    from sagespec.compiler.sdk import LOCATIONS, sdk_class

    missing = []
    with default_region("us-east-1"):  # v3 resolves a region while importing
        for name in LOCATIONS:
            try:
                sdk_class(installed(), name)
            except (ImportError, AttributeError) as exc:
                missing.append(f"{name}: {exc}")
    assert missing == []
