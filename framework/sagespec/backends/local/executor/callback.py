"""The Callback step locally: the message SageMaker would send to the step's SQS queue is kept in
the control plane (`sagespec executions describe` shows it), and the step waits until someone
answers its token with `sagespec executions send-success|send-failure` (the local
SendPipelineExecutionStepSuccess/Failure), or the execution is stopped.

The message is the one "Callback step" in the SageMaker Developer Guide documents: the token, the
execution ARN, the step's resolved arguments and the status Executing.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import TYPE_CHECKING, Any

from sagespec.backends.local.executor.handlers import StepRun, handler
from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.pipelines import add_callback, answer_callback, read_callback
from sagespec.definition import steps, typed_value
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    from sagespec.backends.local.pipelines import PipelineStore

TOKEN_LENGTH = 10  # CallbackToken: 10 letters and digits (SendPipelineExecutionStepSuccess)
POLL_SECONDS = 0.25


def new_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(TOKEN_LENGTH))


@handler("Callback")
def callback(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    token = new_token()
    message = {
        "token": token,
        "pipelineExecutionArn": run.execution_arn,
        "arguments": run.ctx.resolve(step.get("Arguments") or {}),
        "status": "Executing",
    }
    add_callback(run.conn, token, run.execution_arn, step["Name"], step["SqsQueueUrl"], message)
    run.log(f"message to {step['SqsQueueUrl']}: {json.dumps(message)}")
    run.log(f"waiting for `sagespec executions send-success {token}` (or send-failure)")
    if run.progress:
        run.progress(f"waiting: sagespec executions send-success {token}")
    while True:
        answer = read_callback(run.conn, token)
        if answer["status"] == "Succeeded":
            run.log(f"succeeded with outputs {json.dumps(answer['outputs'])}")
            return {"OutputParameters": typed_outputs(step, answer["outputs"])}
        if answer["status"] == "Failed":
            raise StepFailed(f"the callback failed: {answer['failure_reason']}")
        if run.interrupted and run.interrupted():
            raise StepFailed("stopped while waiting for its callback")
        time.sleep(POLL_SECONDS)


def typed_outputs(step: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The answer's values (strings on the wire) as the types the step declares."""
    declared = {o["OutputName"]: o.get("OutputType", "String") for o in step.get("OutputParameters", [])}
    typed: dict[str, Any] = {}
    for name, value in values.items():
        try:
            typed[name] = typed_value(declared.get(name, "String"), value)
        except ValueError:
            raise StepFailed(f"output {name} is declared {declared[name]}; the callback sent {value!r}") from None
    return typed


def send_success(store: PipelineStore, token: str, outputs: dict[str, str]) -> dict[str, Any]:
    """SendPipelineExecutionStepSuccess: outputs the step does not declare are refused before the
    answer is stored."""

    waiting = read_callback(store.conn, token)
    execution = store.describe_execution(waiting["execution"])
    step = steps(store.definition(execution["pipeline"], execution["definition_version"]))[waiting["step"]]
    declared = [o["OutputName"] for o in step.get("OutputParameters", [])]
    unknown = sorted(set(outputs) - set(declared))
    if unknown:
        raise UserError(
            "E6006",
            f"step {step['Name']} declares no output {', '.join(unknown)}",
            hint=f"its outputs: {', '.join(declared) or 'none'}",
            exit_code=2,
        )
    return answer_callback(store.conn, token, "Succeeded", outputs=outputs)


def send_failure(store: PipelineStore, token: str, reason: str) -> dict[str, Any]:
    return answer_callback(store.conn, token, "Failed", reason=reason[:256])  # FailureReason: at most 256 characters
