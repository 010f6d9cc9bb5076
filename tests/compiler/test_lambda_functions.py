"""A Lambda step that brings its function's code compiles offline: the definition carries the ARN
CreateFunction returns (as the SDK's LambdaStep writes it after upserting), and the compiled
function is a CreateFunction request botocore's Lambda service model accepts, the same bytes on
every compile and from the compile cache."""

import io
import re
import shutil
import zipfile

import botocore.session
import pytest
from botocore.validate import ParamValidator

from helpers import ROOT
from sagespec.context import Context
from sagespec.workflows.specs import compiled

FIXTURE = ROOT / "tests/fixtures/notebook_style/lambda_deploy"
LAMBDA = botocore.session.get_session().get_service_model("lambda")


@pytest.fixture
def project(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(FIXTURE, copy)
    return copy


def test_the_definition_names_the_function_and_the_function_is_a_valid_create_function_request(project, tmp_path):
    pipeline = compiled(Context.at(project, tmp_path / "ws"), project / "pipeline.yaml", cache=False)
    arns = {s["Name"]: s["FunctionArn"] for s in pipeline.definition["Steps"] if s["Type"] == "Lambda"}
    assert arns == {"PrepareEndpointNames": "arn:aws:lambda:us-east-1:111111111111:function:sagemaker-prepare-endpoint-names"}
    # Invoke's FunctionName takes the ARN as the definition writes it
    pattern = LAMBDA.operation_model("Invoke").input_shape.members["FunctionName"].metadata["pattern"]
    assert re.fullmatch(pattern, arns["PrepareEndpointNames"])
    functions = {f.step: f for f in pipeline.functions}
    assert set(functions) == {"PrepareEndpointNames", "AnnounceEndpoint"}
    prepare = functions["PrepareEndpointNames"]
    assert (prepare.handler, prepare.runtime, prepare.timeout, prepare.memory_size) == (
        "prepare_endpoint.lambda_handler",
        "python3.12",
        30,
        256,
    )
    announce = functions["AnnounceEndpoint"]
    assert (announce.timeout, announce.memory_size) == (120, 128)  # the SDK's Lambda(...) defaults
    for function in pipeline.functions:
        request = {
            "FunctionName": function.name,
            "Runtime": function.runtime,
            "Role": function.role,
            "Handler": function.handler,
            "Code": {"ZipFile": function.code},
            "Timeout": function.timeout,
            "MemorySize": function.memory_size,
        }
        report = ParamValidator().validate(request, LAMBDA.operation_model("CreateFunction").input_shape)
        assert not report.has_errors(), report.generate_report()
        assert function.runtime in LAMBDA.shape_for("Runtime").enum
    # The package is the script alone at its root, as the SDK zips it
    with zipfile.ZipFile(io.BytesIO(prepare.code)) as package:
        assert package.namelist() == ["prepare_endpoint.py"]
        assert package.read("prepare_endpoint.py") == (project / "prepare_endpoint.py").read_bytes()


def test_the_same_script_is_the_same_package_and_the_cache_keeps_it(project, tmp_path):
    ctx = Context.at(project, tmp_path / "ws")
    first = compiled(ctx, project / "pipeline.yaml", cache=False)
    (project / "prepare_endpoint.py").touch()  # a new mtime: the zip does not record it
    cached_once = compiled(ctx, project / "pipeline.yaml")
    cached = compiled(ctx, project / "pipeline.yaml")
    assert cached.from_cache and not cached_once.from_cache
    assert [f.code for f in first.functions] == [f.code for f in cached.functions]
    assert [f.code_sha256 for f in first.functions] == [f.code_sha256 for f in cached.functions]
    (project / "announce.py").write_text((project / "announce.py").read_text() + "\n# changed\n")
    changed = compiled(ctx, project / "pipeline.yaml")
    assert not changed.from_cache
    assert {f.step for f in first.functions if f.code_sha256 not in {g.code_sha256 for g in changed.functions}} == {"AnnounceEndpoint"}
    assert first.definition == changed.definition  # the ARN does not change with the code


def test_an_existing_function_named_by_arn_brings_no_code_and_compiles_as_before(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "sagespec.toml").write_text("")
    (project / "notify.yaml").write_text(
        "name: notify\nsession:\n  region: eu-west-1\n  role: arn:aws:iam::111111111111:role/r\n  default_bucket: b-111111111111\n"
        "steps:\n  - name: Notify\n    kind: lambda\n    function_arn: arn:aws:lambda:eu-west-1:111111111111:function:team\n"
    )
    pipeline = compiled(Context.at(project, tmp_path / "ws"), project / "notify.yaml", cache=False)
    assert pipeline.functions == []
    assert pipeline.definition["Steps"][0]["FunctionArn"] == "arn:aws:lambda:eu-west-1:111111111111:function:team"
