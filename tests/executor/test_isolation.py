"""Isolation modes: what a local job sees at SageMaker's container paths, and that no mode ever
touches the host's /opt/ml (sagespec.backends.local.executor.isolation)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, run_cli
from sagespec.backends.local.executor.isolation import MODES, bubblewrap, choose, namespace
from sagespec.diagnostics import UserError

FIXTURE = ROOT / "tests" / "fixtures" / "notebook_style" / "abalone_paths"
NO_NAMESPACE = namespace.MODE.unavailable()
needs_namespace = pytest.mark.skipif(NO_NAMESPACE is not None, reason=f"no namespace mode here: {NO_NAMESPACE}")
# The modes that lay out the container paths, each where this machine offers it.
LAYOUT_MODES = [
    pytest.param(mode, marks=pytest.mark.skipif(mode.unavailable() is not None, reason=f"no {mode.name} mode here: {mode.unavailable()}"))
    for mode in (bubblewrap.MODE, namespace.MODE)
]


def host_opt_ml() -> dict[str, tuple[int, int]] | None:
    """The host's /opt/ml: None when absent, else every entry's (size, mtime in ns)."""
    root = Path("/opt/ml")
    if not root.exists():
        return None
    found = {".": (0, root.stat().st_mtime_ns)}
    for path in root.rglob("*"):
        stat = path.lstat()
        found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "abalone_paths"
    shutil.copytree(FIXTURE, copy)
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("mode", LAYOUT_MODES, ids=lambda m: m.name)
def test_a_notebook_style_project_with_hard_coded_paths_runs_unchanged_and_leaves_the_hosts_opt_ml_alone(project: Path, mode):
    before = host_opt_ml()
    workspace = project / ".sagespec"
    done = run_cli("run", "pipelines/abalone.yaml", cwd=project, env={"SAGESPEC_ISOLATION": mode.name})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"running pipeline abalone-paths locally (isolation: {mode.name})\n" in done.stdout
    assert done.stdout.rstrip().endswith("Succeeded")
    execution = next((workspace / "executions").iterdir())
    train_log = (execution / "AbaloneTrain" / "step.log").read_text()
    # the training toolkit's layout: the program under /opt/ml/code, its hyperparameters as SageMaker writes them
    assert "/opt/ml/code/train.py --alpha 0.5" in train_log
    assert 'hyperparameters.json: {"alpha": "0.5"' in train_log
    report = execution / "AbaloneEval" / "output" / "evaluation" / "evaluation.json"
    assert '"mse"' in report.read_text()
    assert report.stat().st_uid == os.getuid()  # written by the namespace's root, which is you outside
    assert host_opt_ml() == before

    # The variables-only mode: the same scripts fail at their first container path, the run says which mode it used.
    again = run_cli("run", "pipelines/abalone.yaml", cwd=project, env={"SAGESPEC_ISOLATION": "variables"})
    assert again.returncode == 1, again.stdout + again.stderr
    assert "locally (isolation: variables, no /opt/ml paths: scripts must read the SM_* variables)" in again.stdout
    assert "variables-only isolation mode: /opt/ml/processing/input/abalone.csv is not mapped" in again.stdout + again.stderr
    assert "error[E6009]: execution ended Failed: step AbaloneProcess failed" in again.stderr
    started = run_cli("start", "abalone-paths", cwd=project, env={"SAGESPEC_ISOLATION": "variables"})
    assert started.stdout.startswith("running pipeline abalone-paths locally (isolation: variables, no /opt/ml paths")
    assert host_opt_ml() == before


def test_an_unknown_isolation_mode_is_a_usage_error_naming_the_modes(project: Path):
    done = run_cli("run", "pipelines/abalone.yaml", cwd=project, env={"SAGESPEC_ISOLATION": "chroot"})
    assert done.returncode == 2
    assert "error[E6019]: SAGESPEC_ISOLATION=chroot names no isolation mode" in done.stderr
    assert "one of: auto, namespace, bubblewrap, variables" in done.stderr
    assert not (project / ".sagespec" / "executions").exists()


def test_a_mode_this_machine_lacks_is_refused_and_auto_passes_it_over_with_the_reason(monkeypatch):
    monkeypatch.setattr(namespace, "_probe", lambda: "the kernel refuses an unprivileged user and mount namespace (test)")
    with pytest.raises(UserError) as refused:
        choose("namespace")
    assert refused.value.code == "E6019" and "the namespace isolation mode cannot run here" in str(refused.value)
    chosen = choose(None)
    assert chosen.mode is MODES["variables"]
    assert chosen.header == (
        "isolation: variables, no /opt/ml paths: scripts must read the SM_* variables; "
        "no namespace: the kernel refuses an unprivileged user and mount namespace (test)"
    )


@pytest.mark.parametrize("mode", LAYOUT_MODES, ids=lambda m: m.name)
def test_a_job_sees_its_folders_at_container_paths_keeps_its_exit_status_and_stops_with_its_process_group(tmp_path: Path, mode):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("hello")
    program = (
        "import os, sys, time\n"
        "print(open('/opt/ml/input/data/train/in.txt').read(), os.environ['SM_CHANNEL_TRAIN'], os.getcwd(), flush=True)\n"
        "print(','.join(sorted(os.listdir('/opt'))), os.path.exists(sys.executable), flush=True)\n"
        "time.sleep(float(sys.argv[1])); sys.exit(3)\n"
    )
    mounts = [("/opt/ml/input/data/train", data)]
    launch = mode.launch([sys.executable, "-c", program, "0"], {"SM_CHANNEL_TRAIN": str(data)}, data, mounts, tmp_path / "work")
    done = subprocess.run(launch.argv, env={**os.environ, **launch.env}, cwd=launch.cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "hello /opt/ml/input/data/train /opt/ml/input/data/train"
    # the host's /opt entries stay visible (its own ml, if any, does not), and so does this interpreter
    assert second == ",".join(sorted({*os.listdir("/opt"), "ml"})) + " True"
    assert launch.shown[:2] == [sys.executable, "-c"]

    slow = mode.launch([sys.executable, "-c", program, "60"], {"SM_CHANNEL_TRAIN": str(data)}, data, mounts, tmp_path / "work2")
    child = subprocess.Popen(slow.argv, env={**os.environ, **slow.env}, cwd=slow.cwd, stdout=subprocess.PIPE, start_new_session=True)
    assert child.stdout is not None and child.stdout.readline()  # it runs
    started = time.monotonic()
    os.killpg(child.pid, signal.SIGTERM)
    assert child.wait(timeout=10) == -signal.SIGTERM and time.monotonic() - started < 5


@pytest.mark.parametrize("mode", LAYOUT_MODES, ids=lambda m: m.name)
def test_a_container_path_outside_opt_ml_is_refused_as_sagemaker_refuses_it(tmp_path: Path, mode):
    with pytest.raises(ValueError, match="container paths outside /opt/ml: /data/in"):
        mode.launch([sys.executable, "-c", "pass"], {}, tmp_path, [("/data/in", tmp_path)], tmp_path / "work")


@needs_namespace
def test_a_job_whose_private_opt_is_not_in_place_stops_before_it_creates_anything(tmp_path: Path):
    # The namespace's root is the host's root when sagespec runs as root: without its own /opt in
    # place, the job's `mkdir -p /opt/ml/...` would land on the host. The script checks first.
    before = host_opt_ml()
    body = namespace.script([("/opt/ml/never", tmp_path)], tmp_path / "opt", "/")
    lines = [line for line in body.splitlines() if not line.startswith(f"mount --rbind {tmp_path / 'opt'} ")]
    assert len(lines) == len(body.splitlines()) - 1
    done = subprocess.run([*namespace.UNSHARE, "sh", "-c", "\n".join(lines), "sh", "true"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 70 and "sagespec: /opt is still the host one" in done.stderr
    assert host_opt_ml() == before
