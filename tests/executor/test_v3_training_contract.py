"""SDK v3's training contract, as the local executor plays it (executor.training.v3_program):
the drivers channel's sourcecode.json says what runs, from the code channel."""

import json
import sys

import pytest

from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.executor.training import v3_program


def channels(tmp_path, source: dict, files: dict[str, str]) -> dict:
    drivers, code = tmp_path / "sm_drivers", tmp_path / "code"
    drivers.mkdir()
    code.mkdir()
    (drivers / "sourcecode.json").write_text(json.dumps(source))
    for name, text in files.items():
        (code / name).write_text(text)
    return {"sm_drivers": drivers, "code": code, "train": tmp_path / "train"}


def test_the_entry_script_runs_through_the_sdks_driver_with_the_hyperparameters(tmp_path):
    given = channels(tmp_path, {"source_dir": "training_code", "entry_script": "train.py"}, {"train.py": "print(1)"})
    env = {}
    argv, cwd = v3_program(given, {"epochs": 3, "hidden_units": "128,64"}, env)
    assert argv == [sys.executable, str(tmp_path / "sm_drivers" / "distributed_drivers" / "basic_script_driver.py")]
    assert cwd == tmp_path / "code"
    assert env["SM_ENTRY_SCRIPT"] == "train.py" and json.loads(env["SM_HPS"]) == {"epochs": 3, "hidden_units": "128,64"}


def test_unmet_requirements_fail_the_job_naming_them(tmp_path):
    given = channels(
        tmp_path,
        {"entry_script": "train.py", "requirements": "requirements.txt"},
        {"train.py": "", "requirements.txt": "no-such-pkg-xyz>=1\n"},
    )
    with pytest.raises(StepFailed, match="requirements.txt asks for no-such-pkg-xyz>=1, not installed here"):
        v3_program(given, {}, {})


@pytest.mark.parametrize(
    "source, says",
    [
        ({"command": "python train.py"}, "SourceCode.command"),
        ({"entry_script": "../../elsewhere.py"}, "is outside the code channel"),
    ],
)
def test_what_has_no_local_equivalent_is_a_step_failure_not_a_crash(tmp_path, source, says):
    with pytest.raises(StepFailed, match=says):
        v3_program(channels(tmp_path, source, {}), {}, {})


def test_a_drivers_channel_without_sourcecode_json_says_so(tmp_path):
    given = channels(tmp_path, {}, {})
    (tmp_path / "sm_drivers" / "sourcecode.json").unlink()
    with pytest.raises(StepFailed, match="the sm_drivers channel has no readable sourcecode.json"):
        v3_program(given, {}, {})
