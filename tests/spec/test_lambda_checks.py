"""A Lambda step names its function as the SDK's Lambda(...) does; the combinations the SDK
refuses, a script that is not there and a handler the script does not define are located errors."""

import shutil

import pytest

from helpers import ROOT
from sagespec.spec.load import load_spec

FIXTURE = ROOT / "tests/fixtures/notebook_style/lambda_deploy"


@pytest.fixture
def project(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(FIXTURE, copy)
    return copy


def diagnostics(project, old: str, new: str):
    spec = (project / "pipeline.yaml").read_text()
    assert old in spec
    path = project / "broken.yaml"
    text = spec.replace(old, new, 1)
    path.write_text(text)
    return [(d.code, d.message, text.splitlines()[d.span.line]) for d in load_spec(path).diagnostics]


FUNCTION = """    function_name: sagemaker-prepare-endpoint-names
    execution_role_arn: arn:aws:iam::111111111111:role/lambda-deployment-role
    script: prepare_endpoint.py
    handler: prepare_endpoint.lambda_handler
"""


@pytest.mark.parametrize(
    ("new", "code", "says", "line_holds"),
    [
        ("", "E4022", "Lambda step 'PrepareEndpointNames' names no function", "- name: PrepareEndpointNames"),
        (
            FUNCTION.replace("    script: prepare_endpoint.py\n", ""),
            "E4022",
            "creates function sagemaker-prepare-endpoint-names but has no script",
            "function_name:",
        ),
        (
            FUNCTION.replace("    execution_role_arn: arn:aws:iam::111111111111:role/lambda-deployment-role\n", ""),
            "E4022",
            "has no execution_role_arn",
            "function_name:",
        ),
        (
            "    function_arn: arn:aws:lambda:us-east-1:111111111111:function:existing\n    script: prepare_endpoint.py\n",
            "E4022",
            "has a script but no handler",
            "script:",
        ),
        (
            "    function_arn: arn:aws:lambda:us-east-1:111111111111:function:existing\n"
            "    execution_role_arn: arn:aws:iam::111111111111:role/r\n",
            "E4022",
            "the existing function arn:aws:lambda:us-east-1:111111111111:function:existing keeps its role",
            "execution_role_arn:",
        ),
        (
            FUNCTION.replace("prepare_endpoint.lambda_handler", "lambda_function.lambda_handler"),
            "E4022",
            "names module 'lambda_function'",
            "handler:",
        ),
        (
            FUNCTION.replace("prepare_endpoint.lambda_handler", "prepare_endpoint.handler"),
            "E4022",
            "defines no function handler",
            "handler:",
        ),
        (FUNCTION.replace("script: prepare_endpoint.py", "script: missing.py"), "E4004", "file 'missing.py' does not exist", "script:"),
        (FUNCTION.replace("script: prepare_endpoint.py", "script: ../outside.py"), "E4005", "outside the project root", "script:"),
    ],
)
def test_a_lambda_step_that_cannot_name_or_build_its_function_is_a_located_error(project, new, code, says, line_holds):
    (project.parent / "outside.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    found = diagnostics(project, FUNCTION, new)
    matching = [line for c, message, line in found if c == code and says in message]
    assert matching, found
    assert line_holds in matching[0]


def test_a_script_that_is_not_python_is_a_located_error(project):
    (project / "prepare_endpoint.py").write_text("def lambda_handler(event, context)\n")
    found = diagnostics(project, "timeout_seconds: 30", "timeout_seconds: 31")
    assert [(c, line.strip()) for c, m, line in found if "is not valid Python" in m] == [("E4022", "script: prepare_endpoint.py")]


def test_the_schema_bounds_the_settings_lambda_bounds(project):
    found = diagnostics(project, "memory_size: 256", "memory_size: 64")
    assert any(c.startswith("E2") and "memory_size" in line for c, _, line in found), found
    found = diagnostics(project, "timeout_seconds: 30", "timeout_seconds: 30\n    runtime: python3.8")
    assert any(c.startswith("E2") and "runtime" in line for c, _, line in found), found
