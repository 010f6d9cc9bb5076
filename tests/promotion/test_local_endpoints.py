"""Local endpoints and the promotion rules, with a tiny real SavedModel (fast; no pipeline run)."""

import http.client
import importlib.util
import json
import os
import signal
import time

import pytest

from helpers import BUCKET, GROUP, GROUP_ARN, PACKAGE, ROOT, run_cli, tar_gz
from sagespec.diagnostics import UserError
from sagespec.workflows.promotion.promoter import Promoter

# Real endpoint servers (each loads its model): `make test-fast` leaves these out.
pytestmark = pytest.mark.slow


def promoter(world, stage):
    return Promoter(world.registry("deployment"), world.hosting(stage), world.topology, GROUP, stage)


def deploy(world, stage, version=None, **options):
    p = promoter(world, stage)
    return p.execute(p.plan_promote(version, **options))


def post(port, body, content_type="text/csv", headers=None, method="POST", path="/invocations"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body, {"Content-Type": content_type, **(headers or {})})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload else None, response.getheader("X-Amzn-Invoked-Production-Variant")


def cli(world, *args):
    return run_cli(*args, env={"SAGESPEC_WORKSPACE": str(world.workspace)}, cwd=ROOT)


def test_endpoint_serves_csv_and_json_and_refuses_bad_input_without_dying(world):
    version = world.register(slope=2.0)
    deploy(world, "qa", version)
    described = world.hosting("qa").describe_endpoint("california-housing-qa")
    assert described["EndpointStatus"] == "InService" and described["ProductionVariants"][0]["VariantName"] == "v1"
    port = described["Port"]

    assert post(port, None, method="GET", path="/ping")[0] == 200
    status, answer, variant = post(port, b"1.5,0,0,0,0,0,0,0\n3,1,1,1,1,1,1,1\n")
    assert (status, variant) == (200, "v1") and answer == {"predictions": [[3.5], [6.5]]}
    assert post(port, json.dumps([2, 0, 0, 0, 0, 0, 0, 0]), "application/json")[1] == {"predictions": [[4.5]]}
    assert post(port, json.dumps({"instances": [[1] * 8, [0] * 8]}), "application/json; charset=utf-8")[1] == {
        "predictions": [[2.5], [0.5]]
    }

    bad = [
        (b"", "text/csv", 400, "empty"),
        (b"1,2,3", "text/csv", 400, "row 1 has 3 values; the model takes 8 values per row"),
        (b"1,2,3,4,5,6,7,x", "text/csv", 400, "CSV line 1 has a value that is not a number"),
        (b"\xff\xfe", "text/csv", 400, "not UTF-8"),
        (b"[1, 2,", "application/json", 400, "not valid JSON"),
        (b'{"rows": []}', "application/json", 400, '"instances"'),
        (b'[[1,2,3,4,5,6,7,"8"]]', "application/json", 400, "row 1 has a value that is not a number"),
        (b"[[1,2,3,4,5,6,7,NaN]]", "application/json", 400, "not finite"),
        (b"1,2,3,4,5,6,7,8", "image/png", 415, "use text/csv or application/json"),
    ]
    for body, content_type, expected, message in bad:
        status, answer, _ = post(port, body, content_type)
        assert status == expected and message in answer["error"], (body, answer)
    assert post(port, b"x", "text/csv", {"Accept": "text/html"})[0] == 406
    assert post(port, b"1", "text/csv", {"X-Amzn-SageMaker-Target-Variant": "v9"})[1]["error"].startswith("target variant 'v9'")
    assert post(port, None, method="GET", path="/invocations")[0] == 404

    # A payload over SageMaker's 6 MB limit is refused from its Content-Length, before it is read.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", "/invocations")
    connection.putheader("Content-Type", "text/csv")
    connection.putheader("Content-Length", str(7 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    # The server refuses it from the header (waitress's max_request_body_size), without reading it.
    assert response.status == 413 and b"exceeds max_body of 6291456" in response.read()
    connection.close()

    # Still alive and answering after all of that.
    assert post(port, b"1,0,0,0,0,0,0,0")[1] == {"predictions": [[2.5]]}
    assert world.hosting("qa").describe_endpoint("california-housing-qa")["EndpointStatus"] == "InService"


def test_only_approved_versions_are_promoted(world):
    pending = world.register(status="PendingManualApproval")
    rejected = world.register(status="Rejected")
    with pytest.raises(UserError) as error:
        deploy(world, "qa", pending)
    assert error.value.code == "E7001" and "PendingManualApproval" in error.value.message
    with pytest.raises(UserError) as error:
        deploy(world, "qa", rejected)
    assert error.value.code == "E7001" and "Rejected" in error.value.message
    with pytest.raises(UserError) as error:
        deploy(world, "qa")  # latest Approved: there is none
    assert error.value.code == "E7001" and "no Approved version" in error.value.message
    assert world.hosting("qa").describe_endpoint("california-housing-qa") is None
    assert world.registry("deployment").deployments(GROUP_ARN) == []


def test_prod_needs_qa_unless_forced_with_a_reason_and_canary_rules(world):
    version = world.register()
    with pytest.raises(UserError) as error:
        deploy(world, "prod", version)
    assert error.value.code == "E7002"
    with pytest.raises(UserError) as error:
        deploy(world, "prod", version, canary_weight=0.1, force=True, reason="x")
    assert error.value.code == "E7004" and "needs a version already in prod" in error.value.message
    with pytest.raises(UserError) as error:
        promoter(world, "prod").plan_finalize()
    assert error.value.code == "E7004"
    with pytest.raises(UserError) as error:
        promoter(world, "prod").plan_rollback()
    assert error.value.code == "E7004" and "nothing to roll back" in error.value.message

    recorded = deploy(world, "prod", version, force=True, reason="hotfix approved by the on-call lead")
    assert recorded.detail == {"forced": True} and recorded.reason == "hotfix approved by the on-call lead"
    package = world.registry("deployment").describe(PACKAGE.format(version))
    assert (package.stage, package.stage_status) == ("Prod", "Deployed")
    with pytest.raises(UserError) as error:
        deploy(world, "prod", version, canary_weight=0.5, force=True, reason="x")
    assert error.value.code == "E7004" and "already takes most" in error.value.message
    with pytest.raises(UserError) as error:
        deploy(world, "qa", version, canary_weight=0.5)
    assert error.value.code == "E7005"


def test_endpoints_test_marks_qa_passed_or_failed_and_prod_follows(world):
    good = world.register(slope=2.0)
    drifted = world.register(slope=2.0, registered_slope=2.3)  # its registered MSE is not what the endpoint gives
    deploy(world, "qa", good)
    data = f"{BUCKET}/data/test.csv"
    passed = cli(world, "endpoints", "test", "california-housing-qa", "--data", data)
    assert passed.returncode == 0, passed.stderr
    assert "version 1 passed QA" in passed.stdout and "passed" in passed.stdout
    assert world.registry("deployment").describe(PACKAGE.format(good)).stage_status == "TestPassed"

    deploy(world, "qa", drifted)
    failed = cli(world, "endpoints", "test", "california-housing-qa", "--data", data, "--output", "json")
    assert failed.returncode == 1
    result = json.loads(failed.stdout)[0]  # JSON output is only JSON
    assert (
        result["version"] == 2
        and result["metric"] == "regression_metrics.mse"
        and result["registered_value"] > result["endpoint_value"] * 1.5
    )
    assert world.registry("deployment").describe(PACKAGE.format(drifted)).stage_status == "TestFailed"

    with pytest.raises(UserError) as error:
        deploy(world, "prod", drifted)
    assert error.value.code == "E7002"
    deploy(world, "prod", good)
    outcomes = [(d.stage, d.action, d.version, d.outcome) for d in world.registry("deployment").deployments(GROUP_ARN)]
    assert outcomes == [
        ("qa", "deploy", 1, "Succeeded"),
        ("qa", "qa-test", 1, "Passed"),
        ("qa", "deploy", 2, "Succeeded"),
        ("qa", "qa-test", 2, "Failed"),
        ("prod", "deploy", 1, "Succeeded"),
    ]


def test_a_failed_update_keeps_the_old_version_serving_and_records_nothing(world):
    good = world.register()
    broken = world.register(archive=b"this is not a model archive")
    deploy(world, "qa", good)
    with pytest.raises(UserError) as error:
        deploy(world, "qa", broken)
    assert error.value.code == "E7003" and "still serves" in error.value.hint
    described = world.hosting("qa").describe_endpoint("california-housing-qa")
    assert described["EndpointStatus"] == "InService" and [v["VariantName"] for v in described["ProductionVariants"]] == ["v1"]
    assert post(described["Port"], b"1,0,0,0,0,0,0,0")[2] == "v1"
    assert [d.version for d in world.registry("deployment").deployments(GROUP_ARN)] == [good]
    assert world.registry("deployment").describe(PACKAGE.format(broken)).stage is None


def test_a_killed_endpoint_shows_failed_and_the_next_promotion_restarts_it(world):
    first, second = world.register(), world.register(slope=3.0)
    deploy(world, "qa", first)
    hosting = world.hosting("qa")
    pid = hosting.describe_endpoint("california-housing-qa")["Pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while hosting.describe_endpoint("california-housing-qa")["EndpointStatus"] != "Failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    listed = cli(world, "endpoints", "list", "--output", "json")
    assert json.loads(listed.stdout)[0]["EndpointStatus"] == "Failed"
    deploy(world, "qa", second)
    described = hosting.describe_endpoint("california-housing-qa")
    assert described["EndpointStatus"] == "InService" and described["Pid"] != pid
    assert post(described["Port"], b"1,0,0,0,0,0,0,0")[1] == {"predictions": [[3.5]]}


def test_stop_servers_then_promoting_the_same_version_starts_it_again(world):
    version = world.register()
    deploy(world, "qa", version)
    stopped = cli(world, "endpoints", "stop-servers", "--output", "json")
    assert stopped.returncode == 0, stopped.stderr
    assert [s["EndpointName"] for s in json.loads(stopped.stdout)] == ["california-housing-qa"]
    hosting = world.hosting("qa")
    described = hosting.describe_endpoint("california-housing-qa")
    assert described["EndpointStatus"] == "Failed" and "stop-servers" in described["FailureReason"]
    assert cli(world, "endpoints", "stop-servers").stdout.startswith("no endpoint server is running")
    p = promoter(world, "qa")
    plan = p.plan_promote(version)
    assert not plan.unchanged and any("Failed" in n for n in plan.notes)
    p.execute(plan)
    described = hosting.describe_endpoint("california-housing-qa")
    assert described["EndpointStatus"] == "InService"
    assert post(described["Port"], b"1,0,0,0,0,0,0,0")[1] == {"predictions": [[2.5]]}
    assert promoter(world, "qa").plan_promote(version).unchanged


def test_prod_asks_before_changing_and_refuses_without_a_terminal(world):
    version = world.register()
    refused = cli(world, "promote", GROUP, "--stage", "prod", "--version", str(version), "--force", "--reason", "test")
    assert refused.returncode == 2 and "error[E7007]" in refused.stderr and "--yes" in refused.stderr
    assert world.hosting("prod").describe_endpoint("california-housing-prod") is None
    usage = cli(world, "promote", GROUP, "--stage", "prod", "--force")
    assert usage.returncode == 2 and "--force needs --reason" in usage.stderr
    usage = cli(world, "promote", GROUP, "--finalize", "--version", "1")
    assert usage.returncode == 2 and "--finalize takes no --version" in usage.stderr


def test_on_approval_promotes_the_newest_approved_version_once(world):
    world.register(status="Approved")
    second = world.register(status="PendingManualApproval")
    third = world.register(status="PendingManualApproval")
    deployment = world.registry("deployment")
    deployment.update_status(PACKAGE.format(third), "Approved", "ok")
    deployment.update_status(PACKAGE.format(third), "Rejected", "changed my mind")
    deployment.update_status(PACKAGE.format(second), "Approved", "ok")
    first_run = cli(world, "promote", GROUP, "--on-approval")
    assert first_run.returncode == 0, first_run.stderr
    assert "version 2 of california-housing was approved" in first_run.stdout
    assert world.hosting("qa").describe_endpoint("california-housing-qa")["ProductionVariants"][0]["VariantName"] == "v2"
    again = cli(world, "promote", GROUP, "--on-approval")
    assert again.returncode == 0 and "no new approvals" in again.stdout


def test_endpoints_test_says_what_is_missing(world, tmp_path):
    deploy(world, "qa", world.register())
    empty = tmp_path / "test.csv"
    empty.write_text("target,f0,f1,f2,f3,f4,f5,f6,f7\n")
    result = cli(world, "endpoints", "test", "california-housing-qa", "--data", str(empty))
    assert result.returncode == 1 and f"error[E7006]: {empty} has no rows after its header" in result.stderr
    # Without --data the test split is looked up through the version's execution; this version has none.
    result = cli(world, "endpoints", "test", "california-housing-qa")
    assert result.returncode == 2 and "error[E7006]: cannot find the test split of version 1" in result.stderr
    assert "--data" in result.stderr
    # The deployer role may describe only the registry's endpoints (<group>-*): another name is
    # denied before it is looked up, as DescribeEndpoint is on AWS.
    missing = cli(world, "endpoints", "test", "no-such-endpoint")
    assert missing.returncode == 1 and "error[E6002]" in missing.stderr
    assert "role/sagespec-deployer is not authorized to perform: sagemaker:DescribeEndpoint" in missing.stderr


def test_endpoint_processes_stop_when_their_workspace_is_removed(world):
    from sagespec.backends.local.database import DATABASE_NAME
    from sagespec.backends.local.hosting import process_alive

    deploy(world, "qa", world.register())
    pid = world.hosting("qa").describe_endpoint("california-housing-qa")["Pid"]
    (world.workspace / DATABASE_NAME).rename(world.workspace.parent / "moved-away.sqlite3")  # as `make clean` would
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(pid)


def test_an_endpoint_role_that_cannot_pull_its_image_fails_the_deployment_as_on_aws(world):
    """SageMaker starts each variant as the model's role: without ECR pull the endpoint is refused
    before anything runs, with AWS's wording, naming the repository."""
    from sagespec.backends.local.policies import read_policy, write_policy
    from sagespec.iam import AccessDenied

    key = "arn:aws:iam::444444444444:role/sagespec-qa-sagemaker#EndpointRuntime"
    document = read_policy(world.conn, key)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "PullImages"]
    write_policy(world.conn, key, document, "test")
    with pytest.raises(AccessDenied) as denied:
        deploy(world, "qa", world.register())
    assert denied.value.message == (
        "User: arn:aws:iam::444444444444:role/sagespec-qa-sagemaker is not authorized to perform: ecr:BatchCheckLayerAvailability"
        " on resource: arn:aws:ecr:us-east-1:763104351884:repository/tensorflow-inference"
        " because no identity-based policy allows the ecr:BatchCheckLayerAvailability action"
    )
    assert world.hosting("qa").describe_endpoint("california-housing-qa") is None  # nothing was created


def test_a_model_no_local_server_can_load_is_refused_before_anything_starts(world):
    """A Hugging Face model registers (and SageMaker would serve it); no local server stands in
    for its image, so the deployment says so and creates nothing."""
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.3.0-transformers4.48.0-cpu-py311-ubuntu22.04"
    with pytest.raises(UserError) as refused:
        deploy(world, "qa", world.register(image=image))
    assert refused.value.code == "E6019", refused.value.message
    assert f"cannot be served here: {image} is not one of SageMaker's inference images that local endpoints serve" in refused.value.message
    assert world.hosting("qa").describe_endpoint("california-housing-qa") is None


def test_hosting_calls_are_decided_as_the_caller(world):
    """The endpoint role itself may not create models; the qa deployer may not act in prod."""
    from sagespec.backends.factory import open_hosting
    from sagespec.context import Context
    from sagespec.iam import AccessDenied, Principal

    version = world.register()
    package = f"arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/{version}"
    project = Context.at(ROOT, world.workspace, target="local")
    qa = world.topology.find("qa")
    as_endpoint_role = open_hosting(project, qa)
    with pytest.raises(AccessDenied) as denied:
        as_endpoint_role.create_model("california-housing-v1", package, "arn:aws:iam::444444444444:role/sagespec-qa-sagemaker")
    assert "role/sagespec-qa-sagemaker is not authorized to perform: sagemaker:CreateModel" in denied.value.message
    prod = world.topology.find("prod")
    qa_deployer_in_prod = open_hosting(project, prod, caller=Principal("444444444444", "arn:aws:iam::444444444444:role/sagespec-deployer"))
    with pytest.raises(AccessDenied) as denied:
        qa_deployer_in_prod.create_endpoint_config("california-housing-v1", [])
    assert "because no resource-based policy allows the sagemaker:CreateEndpointConfig action" in denied.value.message


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="the local-torch extra is not installed")
def test_a_pytorch_model_is_served_by_the_toolkits_default_handlers_and_passes_qa(world, tmp_path):
    """A TorchScript model.pt and no inference script: the PyTorch inference image's default
    model_fn/input_fn/predict_fn/output_fn serve it, and the QA test compares its MSE."""
    import torch

    from sagespec.backends.local.policies import read_policy, write_policy

    class Linear(torch.nn.Module):
        def forward(self, features):
            return features[:, :1] * 2.0 + 0.5

    torch.jit.script(Linear()).save(str(tmp_path / "model.pt"))
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"
    # The QA role as `accounts render` writes it for a project whose pipelines register this image.
    key = "arn:aws:iam::444444444444:role/sagespec-qa-sagemaker#EndpointRuntime"
    document = read_policy(world.conn, key)
    pull = next(s for s in document["Statement"] if s["Sid"] == "PullImages")
    pull["Resource"] = [*([pull["Resource"]] if isinstance(pull["Resource"], str) else pull["Resource"])]
    pull["Resource"].append("arn:aws:ecr:us-east-1:763104351884:repository/pytorch-inference")
    write_policy(world.conn, key, document, "test")

    deploy(world, "qa", world.register(archive=tar_gz({"model.pt": (tmp_path / "model.pt").read_bytes()}), image=image))
    port = world.hosting("qa").describe_endpoint("california-housing-qa")["Port"]
    status, answer, _ = post(port, b"[[1, 0, 0, 0, 0, 0, 0, 0]]", "application/json", {"Accept": "application/json"})
    assert status == 200 and answer == [[2.5]]
    tested = cli(world, "endpoints", "test", "california-housing-qa", "--data", f"{BUCKET}/data/test.csv")
    assert tested.returncode == 0 and "version 1 passed QA" in tested.stdout, tested.stdout + tested.stderr


# A scikit-learn container that halves every feature and answers text/csv, as an inference
# pipeline's preprocessing container is set up (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).
HALVE = """
def model_fn(model_dir):
    return 0.5

def predict_fn(data, factor):
    return data * factor
"""


def test_an_inference_pipeline_serves_its_containers_in_order(world):
    """scikit-learn (halve the features, answer CSV) -> TensorFlow Serving (2 * x0 + 0.5): the
    endpoint answers x0 + 0.5, and the QA test compares it with what was registered."""
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(world.workspace, world.conn)
    code, artifact = f"{BUCKET}/code/halve/sourcedir.tar.gz", f"{BUCKET}/job-halve/output/model.tar.gz"
    store.put(code, tar_gz({"inference.py": HALVE.encode()}))
    store.put(artifact, tar_gz({"factor.txt": b"0.5"}))
    halve = {
        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "ModelDataUrl": artifact,
        "Environment": {
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": code,
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
        },
    }
    # The QA role as `accounts render` writes it for a pipeline that registers this code.
    from sagespec.backends.local.policies import read_policy, write_policy

    key = "arn:aws:iam::444444444444:role/sagespec-qa-sagemaker#EndpointRuntime"
    document = read_policy(world.conn, key)
    arn = "arn:aws:s3:::" + code.removeprefix("s3://")
    document["Statement"].append({"Sid": "ReadTheCode", "Effect": "Allow", "Action": "s3:GetObject", "Resource": arn})
    write_policy(world.conn, key, document, "test")
    version = world.register(slope=2.0, registered_slope=1.0, before=[halve])
    deploy(world, "qa", version)
    described = world.hosting("qa").describe_model(
        world.hosting("qa").describe_endpoint("california-housing-qa")["ProductionVariants"][0]["ModelName"]
    )
    assert [c["Image"].split("/")[-1].split(":")[0] for c in described["Containers"]] == ["sagemaker-scikit-learn", "tensorflow-inference"]
    port = world.hosting("qa").describe_endpoint("california-housing-qa")["Port"]
    status, answer, _ = post(port, b"3,0,0,0,0,0,0,0\n1,0,0,0,0,0,0,0", "text/csv")
    assert status == 200 and answer == {"predictions": [[3.5], [1.5]]}, answer
    tested = cli(world, "endpoints", "test", "california-housing-qa", "--data", f"{BUCKET}/data/test.csv")
    assert tested.returncode == 0 and "version 1 passed QA" in tested.stdout, tested.stdout + tested.stderr
