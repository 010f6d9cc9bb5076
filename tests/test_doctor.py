"""`sagespec doctor`: what this machine offers a local run, read without the SDK or any framework."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

from helpers import ROOT, run_cli
from sagespec.backends.local.executor import docker
from sagespec.backends.local.executor.isolation import choose, namespace


def test_doctor_reports_the_isolation_mode_a_run_would_use_and_what_each_missing_piece_costs():
    done = run_cli("doctor", "--output", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["isolation"] == choose(None).mode.name  # the mode `sagespec run` would choose
    modes = {m["name"]: m for m in found["modes"]}
    assert modes["namespace"]["available"] is (namespace.MODE.unavailable() is None)
    assert modes["variables"]["available"] is True
    assert found["docker"]["available"] is (docker.engine_unavailable() is None)
    if not found["docker"]["available"]:
        assert "refused before the run" in found["docker"]["cost"]
    assert {"name": "sagemaker", "available": True, "detail": version("sagemaker"), "cost": ""} in found["sdk"]
    extras = {e["name"]: e for e in found["extras"]}
    assert extras["scikit-learn"] == {"name": "scikit-learn", "available": True, "detail": f"sklearn {version('scikit-learn')}", "cost": ""}
    for piece in extras.values():  # every missing piece says what it costs and how to get it
        assert piece["available"] or "pip install" in piece["cost"], piece

    text = run_cli("doctor")
    assert text.returncode == 0 and text.stdout.startswith(f"isolation: {found['isolation']} (")


def test_doctor_names_the_forced_mode_and_refuses_an_unknown_one():
    forced = run_cli("doctor", "--output", "json", env={"SAGESPEC_ISOLATION": "variables"})
    assert json.loads(forced.stdout)["isolation"] == "variables"
    assert json.loads(forced.stdout)["isolation_reason"] == "chosen by SAGESPEC_ISOLATION"
    unknown = run_cli("doctor", env={"SAGESPEC_ISOLATION": "jail"})
    assert unknown.returncode == 2 and "error[E6019]: SAGESPEC_ISOLATION=jail names no isolation mode" in unknown.stderr


def test_doctor_imports_no_sdk_and_no_framework():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sagespec.cli import cli\n"
        "r = CliRunner().invoke(cli, ['doctor', '--output', 'json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('sagemaker', 'sagemaker_core', 'tensorflow', 'xgboost', 'torch', 'sklearn', 'boto3')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
