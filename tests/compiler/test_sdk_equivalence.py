"""SDK v2 and SDK v3 compile the same spec to the same pipeline, up to the documented differences.

The goldens of both SDKs are recorded by the SDK itself (tests/compiler/test_golden.py in the v2
environment, tests/sdk_v3/ in `.venv-v3`), so this runs anywhere: each bundled spec that v3
builds has a v3 golden equal to v2's after `sdk_differences.normalise`, and each one it does not
build says which features, located. Any other drift fails here.
"""

import copy
import json

import pytest

from helpers import ROOT, places
from sagespec.compiler.v3.unsupported import problems
from sagespec.spec.load import load_spec
from sdk_differences import DIFFERENCES, normalise

GOLDEN = ROOT / "tests" / "compiler" / "golden"
BUNDLED = sorted(p.stem for p in (ROOT / "pipelines").glob("*.yaml") if p.stem != "accounts")
V3_BUILDS = sorted(p.name.split(".")[0] for p in (GOLDEN / "sdk_v3").glob("*.definition.json"))
# What the v3 backend reports for the bundled specs it does not build yet: (spec, (step, feature)).
V3_REFUSES = {
    "breast_cancer": [("RegisterModel", "entry_point"), ("CreateModel", "entry_point")],
    "xgboost_housing": [("TuneModel", "kind"), ("CreateModel", "entry_point"), ("RegisterModel", "entry_point")],
}


def goldens(name: str) -> tuple[dict, dict]:
    v2 = json.loads((GOLDEN / f"{name}.definition.json").read_text())
    v3 = json.loads((GOLDEN / "sdk_v3" / f"{name}.definition.json").read_text())
    return v2, v3


def test_every_bundled_spec_is_built_by_v3_or_refused_with_reasons():
    assert sorted(V3_BUILDS + list(V3_REFUSES)) == BUNDLED


@pytest.mark.parametrize("name", V3_BUILDS)
def test_v3_definition_equals_v2_after_the_documented_differences(name):
    v2, v3 = goldens(name)
    assert v2 != v3  # the goldens are each SDK's own, not one copied twice
    assert normalise(v2) == normalise(v3)


@pytest.mark.parametrize("name", sorted(V3_REFUSES))
def test_v3_names_each_feature_it_does_not_build_yet(name):
    data = load_spec(ROOT / "pipelines" / f"{name}.yaml").document.data
    found = [(data["steps"][path[1]]["name"], path[-1]) for path, _ in problems(data)]
    assert found == V3_REFUSES[name]


def test_any_other_drift_fails_the_comparison():
    v2, v3 = goldens("california_housing")
    drifted = copy.deepcopy(v3)
    training = next(s for s in drifted["Steps"] if s["Type"] == "Training")
    training["Arguments"]["ResourceConfig"]["VolumeSizeInGB"] = 50
    assert normalise(v2) != normalise(drifted)
    renamed = copy.deepcopy(v3)
    renamed["Steps"][0]["Arguments"]["ProcessingInputs"][0]["InputName"] = "raw-data"
    assert normalise(v2) != normalise(renamed)


def v2_check_job_defaults() -> bool:
    """SDK v2's quality check job (twin abalone_monitor) writes the API's input defaults and AppManaged."""
    twin = json.loads((GOLDEN / "twins" / "abalone_monitor.definition.json").read_text())
    (check,) = [s for s in twin["Steps"] if s["Type"] == "QualityCheck"]
    inputs = check["Arguments"]["ProcessingInputs"]
    return all(i["AppManaged"] is False and i["S3Input"]["S3DataDistributionType"] == "FullyReplicated" for i in inputs)


def test_each_documented_difference_is_present_in_the_goldens():
    """No entry of DIFFERENCES is stale: the raw goldens show each one."""
    v2, v3 = goldens("california_housing")
    text2, text3 = json.dumps(v2), json.dumps(v3)
    shown = {
        "MlflowConfig": "MlflowConfig" in text3 and "MlflowConfig" not in text2,
        "AppManaged": "AppManaged" in text2 and "AppManaged" not in text3,
        "model step names": "RegisterModel-RegisterModel" in text2 and "RegisterModel-RegisterModel" not in text3,
        "training code": "sagemaker_submit_directory" in text2 and "sm_drivers" in text3,
        "hyperparameter encoding": '"\\"128,64,32\\""' in text2 and '"128,64,32"' in text3,
        "channel input mode": '"InputMode"' in text3 and '"InputMode"' not in text2,
        "metrics time series": "EnableSageMakerMetricsTimeSeries" in text2 and "EnableSageMakerMetricsTimeSeries" not in text3,
        "debugger": "DebugHookConfig" in text2
        and "ProfilerConfig" in text2
        and "DebugHookConfig" not in text3
        and "ProfilerConfig" not in text3,
        "code keys": "sourcedir.tar.gz" in text2,
        "serving environment": "SAGEMAKER_SUBMIT_DIRECTORY" in text3 and "SAGEMAKER_SUBMIT_DIRECTORY" not in text2,
        "container framework": '"Framework"' in text2 and '"Framework"' not in text3,
        # no bundled pipeline has a check step: the v2 side in a twin's golden (the v3 side is what
        # tests/compiler/test_sdk_twins.py's v3 run normalises away)
        "check jobs": v2_check_job_defaults(),
    }
    assert set(shown) == set(DIFFERENCES)
    assert [k for k, present in shown.items() if not present] == []


def test_the_roles_read_v3_code_channels_by_pattern_so_a_code_change_keeps_its_grant():
    """SDK v3's `code` and `sm_drivers` channels are folders named by their content hash (no file
    after it); the derived grant must not pin the hash, or a fixed script would be refused."""
    import re

    from sagespec.accounts.needs import needs

    _, v3 = goldens("california_housing")
    role = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
    reads = [n.resource for n in needs("california-housing", v3, role, places()) if n.action == "s3:GetObject" and n.step == "TrainModel"]
    assert "arn:aws:s3:::sagespec-shared-artifacts-222222222222/california-housing/california-housing/code/*" in reads
    assert not [r for r in reads if re.search(r"[0-9a-f]{64}", r)]
