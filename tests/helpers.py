"""Helpers shared by test modules (conftest.py files stay per-folder fixtures)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The CLI run with `python -c OFFLINE_RUNNER ARGS...` and sockets refused: proof of "no network"
# (callers also remove every AWS variable: no credentials, no region).
OFFLINE_RUNNER = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access attempted during compile")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
from sagespec.cli import main
sys.argv = ["sagespec"] + sys.argv[1:]
main()
"""


def model_step(name: str, kind: str = "RegisterModel") -> str:
    """A register or create step's name in the definition: SDK v2's ModelStep is a collection that
    names its step `<name>-RegisterModel` / `<name>-CreateModel`; SDK v3's is named as the spec step."""
    from sagespec.compiler.sdk import installed

    return name if installed() == "v3" else f"{name}-{kind}"


def offline_compiles(tmp_path: Path, spec: str, times: int = 2) -> list[subprocess.CompletedProcess]:
    """`sagespec compile --no-cache SPEC` in fresh processes with no AWS variables, no ~/.aws,
    no cache and sockets refused."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), SAGESPEC_WORKSPACE=str(tmp_path / "ws"))
    argv = [sys.executable, "-c", OFFLINE_RUNNER, "compile", "--no-cache", spec]
    return [subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300) for _ in range(times)]


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run sagespec in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "sagespec", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def compile_here(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`sagespec compile ...` through the same click entry point, in this process: the SDK is
    imported once per test worker instead of once per compile (about 3 s each)."""
    from click.testing import CliRunner

    from sagespec.cli import cli

    assert args and args[0] == "compile", "compile_here runs compile only; other commands go through run_cli"
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="sagespec", env={"NO_COLOR": "1"})
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["sagespec", *args], result.exit_code, result.stdout, result.stderr)


def fake_aws_credentials(monkeypatch) -> None:
    """No real AWS settings leak into a test: clear AWS_* and set moto's dummy credentials."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def existing_notify_function(region: str = "us-east-1", endpoint_url: str | None = None) -> str:
    """The team's notify function, as it exists before a first upsert of a spec of the tf_regression
    template (its NotifyMseTooHigh step updates that function's code): on moto, in the caller's
    account, with a role Lambda can assume. Its ARN."""
    import io
    import zipfile

    import boto3

    clients = {"region_name": region, "endpoint_url": endpoint_url, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = boto3.client("iam", **clients).create_role(RoleName="sagespec-notify-team", AssumeRolePolicyDocument=json.dumps(trust))
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("notify_team.py", "def lambda_handler(event, context):\n    return {'status': 'notified'}\n")
    created = boto3.client("lambda", **clients).create_function(
        FunctionName="sagespec-notify-team",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="notify_team.lambda_handler",
        Code={"ZipFile": package.getvalue()},
    )
    return str(created["FunctionArn"])


def moto_lists_execution_steps(monkeypatch) -> None:
    """moto has no ListPipelineExecutionSteps, and runs no steps: its executions are Succeeded as
    soon as they start. Answer as SageMaker would for such an execution, with no steps (an unknown
    execution still gets moto's own ResourceNotFound). Works for mock_aws and ThreadedMotoServer,
    which serve from this process."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    def list_pipeline_execution_steps(self):
        self.sagemaker_backend.describe_pipeline_execution(self._get_param("PipelineExecutionArn"))
        return ActionResult({"PipelineExecutionSteps": []})

    monkeypatch.setattr(SageMakerResponse, "list_pipeline_execution_steps", list_pipeline_execution_steps, raising=False)


def seeded_compile_cache(workspace: Path, project: Path = ROOT, *specs: str) -> Path:
    """`workspace` whose compile cache (workspace/cache/compile) already holds the definitions of
    `specs` (paths relative to `project`; none named: the accounts file's pipelines, all of which
    `accounts apply/check/render` and `promote` compile), as if this workspace had compiled them.

    A test that starts `sagespec run` (or any command that compiles) in a fresh workspace pays
    about 3 s of CPU for the SDK import alone; the same definition is compiled by many tests. Here
    each is compiled once per test run, in the test process (whose SDK is imported once), into the
    run's store (tests/conftest.py), and copied into the workspace. The cache key is every input
    (the rendered spec, each code file's bytes, the SDK's version, the compiler's source): a spec
    or code file a test changes afterwards is a miss, compiled by the command as before. Only the
    specs named are copied, so what a command finds "compiled before" in the workspace (a local
    run's roles count the accounts file's pipelines compiled there) is what the test had without
    the store. The compile itself, and the cache, are tested in tests/compiler."""
    import shutil

    from sagespec.compiler import cache, compile_spec
    from sagespec.diagnostics import DiagnosticError
    from sagespec.spec.load import load_spec

    if not specs:
        from sagespec.context import Context
        from sagespec.workflows.project_pipelines import spec_files

        specs = tuple(str(f.relative_to(project)) for f in spec_files(Context.at(project, workspace), None))
    target = workspace / "cache" / "compile"
    target.mkdir(parents=True, exist_ok=True)
    store = Path(os.environ.get("SAGESPEC_TEST_COMPILE_CACHE") or target)
    for spec in specs:
        result = load_spec(project / spec, project)
        entry = store / f"{cache.input_key(result)}.json"
        if not entry.exists():
            try:
                compile_spec(result, store)  # written atomically: xdist workers share the store
            except DiagnosticError:
                continue  # what this SDK cannot build: the command says so itself
        if entry != target / entry.name:
            shutil.copyfile(entry, target / entry.name)
    return workspace


def fast_project_copy(tmp_path: Path, max_rows: int = 1500) -> Path:
    """A copy of the project whose preprocess steps use the first `max_rows` rows and whose
    California network is one, not an ensemble (fast, same code path)."""
    import shutil

    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "pipelines", "training_code", "xgboost_code", "sklearn_code"):
        source = ROOT / name
        shutil.copytree(source, copy / name) if source.is_dir() else shutil.copy(source, copy / name)
    return make_fast(copy, "california_housing.yaml", max_rows)


def make_fast(project: Path, spec_name: str, max_rows: int = 1500) -> Path:
    """`project`'s templates preprocess the first `max_rows` rows, and the TensorFlow spec
    `spec_name` trains one network, not an ensemble."""
    for template in (project / "pipelines" / "templates").glob("*.yaml"):
        text = template.read_text()
        fast = text.replace("\"{{ ['--seed', split_seed | string, ", f"\"{{{{ ['--max-rows', '{max_rows}', '--seed', split_seed | string, ")
        assert fast != text, f"{template.name}: the preprocess arguments moved; update make_fast"
        template.write_text(fast)
    spec = project / "pipelines" / spec_name
    spec.write_text(spec.read_text().replace("    ensemble: 3\n", "    ensemble: 1\n"))
    return project


def assumed_session(sts, account_id: str, role: str = "admin"):
    """A boto3 session in `account_id` (moto keeps each account's resources apart), via sts:AssumeRole."""
    import boto3

    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="sagespec-test")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


DATA_SCIENCE_ROLE = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"


def data_science_spec(name: str, prefix: str, parameters: dict[str, str], steps: str) -> str:
    """A spec run by the data-science role in its experiment bucket: the header the framework tests
    share, String parameters with these defaults, and `steps` (YAML list items) as written."""
    declared = "".join(f"  {key}:\n    type: String\n    default: {value}\n" for key, value in parameters.items())
    return (
        f"name: {name}\nsession:\n  region: us-east-1\n  role: {DATA_SCIENCE_ROLE}\n"
        f"  default_bucket: sagespec-ds-experiments-111111111111\n  default_bucket_prefix: {prefix}\n"
        f"parameters:\n{declared}steps:\n{steps}"
    )


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A .tar.gz (model.tar.gz, sourcedir.tar.gz) holding `files`, name -> content."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def project_copy_of(folder: Path, tmp_path: Path) -> Path:
    """A copy of a fixture project (its spec, code and sagespec.toml) to change in a test."""
    import shutil

    return Path(shutil.copytree(folder, tmp_path / folder.name, ignore=shutil.ignore_patterns("__pycache__")))


def assert_located_mistake(project: Path, spec: str, old: str, new: str, code: str, says: str, line_holds: str) -> None:
    """`spec` with `old` replaced by `new`, validated in `project`, reports `code` with `says` in its
    message at a line that holds `line_holds`."""
    from sagespec.spec.load import load_spec

    assert old in spec
    text = spec.replace(old, new, 1)
    path = project / "pipelines" / f"broken-{abs(hash((old, new)))}.yaml"
    path.write_text(text)
    diagnostics = load_spec(path).diagnostics
    found = [d for d in diagnostics if d.code == code and says in d.message]
    assert found, [(d.code, d.message) for d in diagnostics]
    assert line_holds in text.splitlines()[found[0].span.line], (text.splitlines()[found[0].span.line], found[0].message)


# -- the local backend as tests build it: the commercial partition, us-east-1 (the accounts file's region) --
REGION = "us-east-1"


def places(topology=None):
    """What a local backend needs of the context: aws, us-east-1, and the accounts file's additions."""
    from sagespec.accounts.places import Places, places_of
    from sagespec.aws.partitions import partition

    return places_of(topology, partition("aws"), REGION) if topology is not None else Places(partition("aws"), REGION)


def local_pipelines(workspace: Path, topology=None):
    from sagespec.backends.local.executor.runner import LocalPipelines

    return LocalPipelines(workspace, places(topology))


def local_registry(conn, principal):
    from sagespec.aws.partitions import partition
    from sagespec.backends.local.registry import LocalRegistry

    return LocalRegistry(conn, principal, REGION, partition("aws"))


def apply_local(topology, workspace: Path, needs=()):
    """The accounts file's policies written into the local control plane (`accounts apply --target local`)."""
    from sagespec.backends.local.policy_admin import LocalPolicyAdmin

    return LocalPolicyAdmin(workspace).apply(topology, needs)


# One container serving a model artifact: what a registered version's InferenceSpecification holds.
INFERENCE = {
    "Containers": [
        {
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu",
            "ModelDataUrl": "s3://sagespec-shared-artifacts-222222222222/california-housing/job/output/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv", "application/json"],
    "SupportedResponseMIMETypes": ["application/json"],
}


# The registry's callers and the promotion tests' group, as the bundled accounts file names them
# (imported from here, not from a conftest: `from conftest import` finds whichever folder's came first).
def _principal(account: str, role: str):
    from sagespec.iam import Principal

    return Principal.role(account, role, "aws")


SHARED = _principal("222222222222", "sagespec-shared-services-admin")
DATA_SCIENCE = _principal("111111111111", "sagespec-data-science-execution")
DEPLOYMENT = _principal("333333333333", "sagespec-deployment")
GROUP = "california-housing"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/{}"
BUCKET = "s3://sagespec-shared-artifacts-222222222222/california-housing"
