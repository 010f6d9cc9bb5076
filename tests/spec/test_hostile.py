"""The hostile corpus: inputs an attacker or a careless user writes. Every one ends in located
errors and exit 1 (or 2 for an unreadable file), never "internal error", never a hang, and nothing
outside the project is read, quoted or uploaded.

fixtures/hostile/ holds the YAML cases (each marks its expected rule and line like fixtures/bad/);
the file-system cases (links out of the project, FIFOs, devices, loops, huge files) are built
here, since git cannot carry them.
"""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ROOT, fast_project_copy, run_cli
from sagespec.spec.load import load_spec

HOSTILE = sorted((Path(__file__).parent / "fixtures" / "hostile").glob("*.yaml"))
SECRET = "TOP-SECRET-d41d8cd98f00b204"  # what an outside file holds; it must never show up anywhere
MINIMAL = (Path(__file__).parent / "fixtures" / "good" / "minimal.yaml").read_text()


def expectation(path: Path) -> tuple[str, int]:
    text = path.read_text()
    code = re.search(r"# expect: (\w+)", text).group(1)
    line = next(n for n, text_line in enumerate(text.splitlines(), 1) if re.search(rf"# <- {code}\b", text_line))
    return code, line


def test_the_corpus_has_over_a_hundred_cases():
    assert len(HOSTILE) + len(FILESYSTEM_CASES) >= 100


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_hostile_spec_reports_its_rule_at_its_line(path):
    code, line = expectation(path)
    found = [(d.code, d.span.line + 1) for d in load_spec(path, ROOT).diagnostics]
    assert (code, line) in found, f"expected {code} at line {line}, got {found}"


def test_the_whole_corpus_as_a_user_runs_it():
    done = run_cli("validate", "tests/spec/fixtures/hostile/", "--output", "json", timeout=60)
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    import json

    files = {Path(d["file"]).name for d in json.loads(done.stdout)}
    assert files == {p.name for p in HOSTILE}  # one bad file never hides another's findings


@pytest.mark.parametrize("path", HOSTILE[::7], ids=[p.stem for p in HOSTILE[::7]])
def test_hostile_spec_in_its_own_process_is_quick_and_clean(path):
    done = run_cli("validate", str(path.relative_to(ROOT)), timeout=10)
    assert done.returncode == 1 and "internal error" not in done.stderr


# ---- the file system -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    copy_ = fast_project_copy(tmp_path)
    (tmp_path / "outside.yaml").write_text(f"name: {SECRET}\n")
    (tmp_path / "outside.py").write_text(f"print('{SECRET}')\n")
    return copy_


def spec_with(project: Path, **changes) -> Path:
    text = MINIMAL
    for old, new in changes.items():
        text = text.replace(old, new)
    path = project / "pipelines" / "hostile.yaml"
    path.write_text(text)
    return path


def _link_out(project):
    os.symlink(project.parent / "outside.yaml", project / "pipelines" / "evil.yaml")
    return ["pipelines/evil.yaml"], "E0009"


def _fifo(project):
    os.mkfifo(project / "pipelines" / "pipe.yaml")
    return ["pipelines/pipe.yaml"], "E0009"


def _dev_zero_link(project):
    os.symlink("/dev/zero", project / "pipelines" / "zero.yaml")
    return ["pipelines/zero.yaml"], "E0009"


def _dev_zero(project):
    return ["/dev/zero"], "E0009"


def _loop(project):
    os.symlink("b.yaml", project / "pipelines" / "a.yaml")
    os.symlink("a.yaml", project / "pipelines" / "b.yaml")
    return ["pipelines/a.yaml"], "E0001"


def _dangling(project):
    os.symlink("nowhere.yaml", project / "pipelines" / "dangling.yaml")
    return ["pipelines/dangling.yaml"], "E0001"


def _name_too_long(project):
    return ["pipelines/" + "n" * 300 + ".yaml"], "E0001"


def _huge(project):
    with open(project / "pipelines" / "huge.yaml", "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB that nobody may read whole
    return ["pipelines/huge.yaml"], "E0010"


def _template_link_out(project):
    template = project / "pipelines" / "templates" / "tf_regression.yaml"
    template.unlink()
    os.symlink(project.parent / "outside.yaml", template)
    return ["pipelines/california_housing.yaml"], "E0009"


def _accounts_link_out(project):
    accounts = project / "pipelines" / "accounts.yaml"
    accounts.unlink()
    os.symlink(project.parent / "outside.yaml", accounts)
    return ["pipelines/accounts.yaml"], "E0009"


def _code_link_out(project):
    os.symlink(project.parent / "outside.py", project / "training_code" / "evil.py")
    spec_with(project, **{"code: training_code/preprocess.py": "code: training_code/evil.py"})
    return ["pipelines/hostile.yaml"], "E4005"


def _source_dir_link_out(project):
    os.symlink(project.parent / "outside.py", project / "training_code" / "helper.py")
    spec_with(project)
    return ["pipelines/hostile.yaml"], "E4005"


def _source_dir_fifo(project):
    os.mkfifo(project / "training_code" / "queue")
    spec_with(project)
    return ["pipelines/hostile.yaml"], "E4005"


def _directory_as_spec(project):
    (project / "pipelines" / "folder.yaml").mkdir()
    return [], "E0009"  # checked with load_spec below: `validate DIR` walks folders


FILESYSTEM_CASES = [
    _link_out,
    _fifo,
    _dev_zero_link,
    _dev_zero,
    _loop,
    _dangling,
    _name_too_long,
    _huge,
    _template_link_out,
    _accounts_link_out,
    _code_link_out,
    _source_dir_link_out,
    _source_dir_fifo,
    _directory_as_spec,
]


@pytest.mark.parametrize("make", FILESYSTEM_CASES, ids=[m.__name__.strip("_") for m in FILESYSTEM_CASES])
def test_files_that_are_not_the_projects_own_are_refused(project, make):
    arguments, code = make(project)
    if not arguments:
        result = load_spec(project / "pipelines" / "folder.yaml", project)
        assert [d.code for d in result.diagnostics] == [code]
        return
    done = run_cli("validate", *arguments, cwd=project, timeout=10)
    assert done.returncode in (1, 2), done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert f"error[{code}]" in shown, shown
    assert SECRET not in shown and "internal error" not in shown and "Traceback" not in shown
    assert re.search(r"^\S+:\d+:\d+: error\[", shown, re.M), shown  # located


def test_staging_refuses_a_link_out_even_after_validation(project):
    """The last guard: a link that appears between validate and compile never reaches an upload."""
    from sagespec.compiler import compile_spec
    from sagespec.diagnostics import DiagnosticError

    result = load_spec(spec_with(project), project)
    assert result.ok
    os.symlink(project.parent / "outside.py", project / "training_code" / "late.py")
    with pytest.raises(DiagnosticError) as refused:
        compile_spec(result)
    assert [d.code for d in refused.value.diagnostics] == ["E4005"]
    assert "late.py" in refused.value.diagnostics[0].message and SECRET not in str(refused.value)


# ---- mutations of a valid spec with hostile values --------------------------------------------

BASE = yaml.safe_load(MINIMAL)
HOSTILE_VALUES = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        -1,
        0,
        10**40,
        "",
        "x\n",
        "a\x00b",
        "\x1b[2J",
        "../../outside.py",
        "/etc/passwd",
        "/dev/zero",
        "s3://Bad_Bucket/k",
        "s3://ok-bucket/k",
        "P99999999999Y",
        "${params.Nope}",
        "${steps.Prep.outputs.train}",
        "{{ 7 * 7 }}",
        "ü" * 300,
        [],
        {},
        None,
        True,
        "ml.m5.xlarge",
        "x" * 3000,
        [1, [2, [3]]],
    ]
)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


PLACES = list(_paths(BASE))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PLACES), HOSTILE_VALUES), min_size=1, max_size=3))
def test_hostile_mutations_end_in_located_findings(tmp_path, mutations):
    data = copy.deepcopy(BASE)
    for place, value in mutations:
        node = data
        try:
            for part in place[:-1]:
                node = node[part]
            node[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = load_spec(path, ROOT)  # raises on a crash: that is the failure this test looks for
    for d in result.diagnostics:
        assert d.span.file and d.span.line >= 0 and len(d.message) < 1000


def test_a_hostile_run_in_a_fresh_process_never_hangs(tmp_path):
    """A spec whose FIFO-named code would block a naive reader: the process ends, with a finding."""
    project = fast_project_copy(tmp_path)
    os.mkfifo(project / "training_code" / "blocking.py")
    spec_with(project, **{"code: training_code/preprocess.py": "code: training_code/blocking.py"})
    done = subprocess.run(
        [sys.executable, "-m", "sagespec", "validate", "pipelines/hostile.yaml"], cwd=project, capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 1 and "error[E4005]" in done.stdout


def test_one_file_that_breaks_a_check_never_hides_the_others(monkeypatch):
    from sagespec.spec.checks import CHECKS
    from sagespec.spec.load import validate_files

    def broken(ctx):
        if ctx.document.source.span(()).file.endswith("001_nan_float_default.yaml"):
            raise RuntimeError("a bug in a check")

    monkeypatch.setattr("sagespec.spec.checks.CHECKS", [*CHECKS, broken])
    found, invalid = validate_files(HOSTILE[:3], ROOT, jobs=1)
    by_file = {Path(d.span.file).name: d.code for d in found if d.code == "E0011"}
    assert by_file == {"001_nan_float_default.yaml": "E0011"}
    assert {Path(d.span.file).name for d in found} == {p.name for p in HOSTILE[:3]} and invalid == 3


def test_a_folder_link_inside_the_project_is_left_alone_and_one_out_of_it_refused(project):
    """As the SDK's source archive does not follow folder links, neither does staging; a link that
    leads out of the project is still refused."""
    (project / "shared").mkdir()
    (project / "shared" / "util.py").write_text("X = 1\n")
    os.symlink(project / "shared", project / "training_code" / "shared")
    assert load_spec(spec_with(project), project).ok
    (project / "training_code" / "shared").unlink()
    os.symlink(project.parent, project / "training_code" / "shared")
    found = [d for d in load_spec(spec_with(project), project).diagnostics if d.code == "E4005"]
    assert found and "training_code/shared" in found[0].message and "outside the project" in found[0].message
