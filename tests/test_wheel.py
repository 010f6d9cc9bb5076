"""The wheel is the product: built from this checkout, installed into a fresh environment, it
scaffolds, validates and compiles a project outside the repository with its own schemas and
templates (nothing read from the checkout).

No test may use the network, so the fresh environment cannot download sagespec's dependencies:
it installs the wheel alone (--no-deps) and finds the dependencies through a path entry to the
test environment's site-packages, appended after its own (a plain path line: the test
environment's editable install of sagespec, a .pth hook there, is not run, so `import sagespec`
can only find the wheel's copy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("sagespec-*.whl")
    return built


def test_the_wheel_carries_the_schemas_the_templates_and_the_bundled_project(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in ("pipeline", "template", "accounts"):
        assert f"sagespec/schemas/{schema}.schema.json" in names
    for template in (ROOT / "pipelines" / "templates").glob("*.yaml"):
        assert f"sagespec/scaffold/pipelines/templates/{template.name}" in names
    assert "sagespec/scaffold/pipelines/accounts.yaml" in names
    assert not any(n.startswith(("tests/", "docs/", "bench/")) for n in names)


@pytest.mark.slow
def test_an_installed_wheel_inits_validates_and_compiles_outside_the_repository(wheel, tmp_path):
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    # pip of the test environment installs into the fresh one: --no-deps, no index, no network
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-compile", "--target", target, str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    Path(target, "zz-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGESPEC_"))}, "HOME": str(tmp_path), "NO_COLOR": "1"}

    def sagespec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-m", "sagespec", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run(
        [str(python), "-c", "import sagespec; print(sagespec.__file__)"], cwd=work, env=env, capture_output=True, text=True
    )
    assert where.stdout.strip().startswith(target), where.stdout + where.stderr
    assert sagespec("--version", cwd=work).stdout.startswith("sagespec, version ")

    init = sagespec("init", "churn", "--template", "sklearn_classification", cwd=work)
    assert init.returncode == 0, init.stdout + init.stderr
    project = work / "churn"
    validated = sagespec("validate", "pipelines/", cwd=project)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    (spec,) = [p for p in (project / "pipelines").glob("*.yaml") if p.name != "accounts.yaml"]
    compiled = sagespec("compile", str(spec.relative_to(project)), cwd=project)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    definition = json.loads(compiled.stdout)
    assert definition["Version"] == "2020-12-01" and definition["Steps"]
    assert str(ROOT) not in compiled.stdout + validated.stdout + init.stdout
