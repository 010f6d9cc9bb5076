"""Pipelines written twice, as a data scientist writes them with the SageMaker Python SDK (in the
shape of the SageMaker example notebooks, written here) and as a sagespec spec: both compile to the
same definition, byte for byte after sorting keys. A fixture folder with `sdk_pipeline.py` is a
twin; its `SPEC` names the spec. The SDK script runs offline as the compiler runs the SDK
(sagespec.compiler.offline: S3 calls answered, nothing sent), in its own folder (its code paths
are relative, as a notebook's are)."""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path

import pytest

from helpers import ROOT

TWINS = sorted(p.parent for p in (ROOT / "tests" / "fixtures").rglob("sdk_pipeline.py"))


def sdk_definition(folder: Path, script: dict, session_spec: dict) -> dict:
    from sagemaker.workflow.pipeline_context import PipelineSession

    from sagespec.compiler.offline import OfflineAws, default_region, quiet_sdk, shared_service_data

    offline = OfflineAws(region=session_spec["region"], buckets=(session_spec["default_bucket"],))
    here = Path.cwd()
    os.chdir(folder)
    try:
        with quiet_sdk(), default_region(session_spec["region"]), shared_service_data():
            session = PipelineSession(
                boto_session=offline.boto_session(),
                default_bucket=session_spec["default_bucket"],
                default_bucket_prefix=session_spec.get("default_bucket_prefix"),
            )
            return json.loads(script["pipeline"](session).definition())
    finally:
        os.chdir(here)


@pytest.mark.parametrize("folder", TWINS, ids=[str(t.relative_to(ROOT / "tests" / "fixtures")) for t in TWINS])
def test_the_spec_compiles_to_what_the_sdk_script_builds(folder):
    from sagespec.compiler import compile_spec
    from sagespec.compiler.sdk import installed
    from sagespec.spec.load import load_spec

    if installed() != "v2":
        pytest.skip("the twins are SDK v2 scripts, as the example notebooks are")
    script = runpy.run_path(str(folder / "sdk_pipeline.py"), run_name="twin")
    loaded = load_spec(folder / script["SPEC"], folder)
    assert loaded.ok, [str(d) for d in loaded.diagnostics]
    ours = compile_spec(loaded).definition
    theirs = sdk_definition(folder, script, loaded.document.data["session"])
    assert json.dumps(ours, indent=1, sort_keys=True) == json.dumps(theirs, indent=1, sort_keys=True)
