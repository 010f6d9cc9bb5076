"""The Lambda step locally: the function's handler runs in a process of its own
(sagespec.backends.local.runtime.lambda_runtime) with the event SageMaker sends (the step's
resolved inputs) and Lambda's context object; the response's top-level keys named by the step's
OutputParameters become its outputs, typed as declared; an unhandled error of the function fails
the step with its errorType and errorMessage.

The function is the one `upsert` or `run` stored in the local control plane
(sagespec.backends.local.functions): a step naming only an existing function's ARN is refused
before the run starts (`unservable`), since its code is not here.

Its environment has the variables Lambda's runtime defines ("Defined runtime environment
variables", AWS Lambda Developer Guide), with LAMBDA_TASK_ROOT the unpacked package and /tmp
(TMPDIR) a folder of the step, and the function's Timeout stops it as Lambda does ("Task timed out
after N seconds").
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from sagespec.backends.local.executor.handlers import StepRun, handler
from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.functions import LocalFunctions
from sagespec.backends.local.pipelines import add_notification
from sagespec.backends.local.runtime import lambda_runtime

# Output type -> the JSON values SageMaker accepts for it (a Lambda step's outputs are read from
# the function's JSON response, so a number stays a number).
ACCEPTS: dict[str, tuple[type, ...]] = {"String": (str,), "Integer": (int,), "Float": (int, float), "Boolean": (bool,)}


def unservable(step: dict[str, Any], workspace: Path) -> str | None:
    """Why a Lambda step cannot run here, or None."""
    arn = step.get("FunctionArn")
    if not isinstance(arn, str) or LocalFunctions(workspace).get(arn) is None:
        return (
            f"its function {arn} is an existing function whose code is not in the project, so it cannot run here: "
            "give the step the function's script and handler (function_name, execution_role_arn, script, handler) "
            "so `sagespec run` runs its handler, or upsert the pipeline to SageMaker"
        )
    return None


@handler("Lambda")
def lambda_step(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    event = run.ctx.resolve(step.get("Arguments") or {})
    stored = LocalFunctions(run.store.workspace).get(step["FunctionArn"])
    if stored is None:  # refused before the run (unservable); stored functions are never removed during one
        raise StepFailed(f"ResourceNotFoundException: Function not found: {step['FunctionArn']}")
    add_notification(run.conn, run.execution_arn, step["Name"], step["FunctionArn"], event)
    config = stored.configuration
    task_root, tmp = run.work / "task", run.work / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(stored.package) as package:
        package.extractall(task_root)
    (run.work / "event.json").write_text(json.dumps(event), encoding="utf-8")
    response_path = run.work / "response.json"
    name, region = config["FunctionName"], run.region
    env = {
        "_HANDLER": config["Handler"],
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config['Runtime']}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{run.execution_id}/[$LATEST]{run.work.name}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(Path(lambda_runtime.__file__).parent),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "TMPDIR": str(tmp),
        "SAGESPEC_LAMBDA_FUNCTION_ARN": stored.arn,
        "SAGESPEC_LAMBDA_TIMEOUT": str(config["Timeout"]),
    }
    argv = [sys.executable, lambda_runtime.__file__, str(task_root), config["Handler"], str(run.work / "event.json"), str(response_path)]
    run.log(f"invoking {stored.arn} ({config['Runtime']} handler {config['Handler']}) with {json.dumps(event)}")
    try:
        run.run_script(
            argv, env, task_root, label=f"function {name}", max_runtime=int(config["Timeout"]), as_role=config["Role"], session=name
        )
    except StepFailed as failed:
        if "MaxRuntimeExceeded" in str(failed):
            raise StepFailed(f"the function {name} failed: Task timed out after {config['Timeout']} seconds") from None
        if not response_path.is_file():
            raise
    response = json.loads(response_path.read_text(encoding="utf-8"))
    if "result" not in response:
        raise StepFailed(f"the function {name} failed: {response.get('errorType')}: {response.get('errorMessage')}")
    return {"OutputParameters": outputs(step, response["result"], name)}


def outputs(step: dict[str, Any], result: object, function: str) -> dict[str, Any]:
    """The declared outputs from the function's response, typed as the step declares them."""
    declared = step.get("OutputParameters") or []
    if not declared:
        return {}
    if not isinstance(result, dict):
        raise StepFailed(f"the function {function} returned {type(result).__name__}, not a JSON object with its outputs")
    found: dict[str, Any] = {}
    for output in declared:
        name, kind = output["OutputName"], output.get("OutputType", "String")
        if name not in result:
            raise StepFailed(f"the function {function} returned no {name} (its keys: {', '.join(sorted(result)) or 'none'})")
        value = result[name]
        if kind == "String" and isinstance(value, (dict, list)):
            value = json.dumps(value)
        elif kind == "String" and not isinstance(value, str):
            value = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
        if not isinstance(value, ACCEPTS[kind]) or (kind != "Boolean" and isinstance(value, bool)):
            raise StepFailed(f"output {name} is declared {kind}; the function returned {value!r}")
        found[name] = float(value) if kind == "Float" and isinstance(value, int) else value
    return found
