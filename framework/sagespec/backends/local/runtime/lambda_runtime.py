"""The Python Lambda runtime, locally: imports a function's handler from its unpacked package and
calls `handler(event, context)` once, as Lambda's Python runtime interface client does.

    python lambda_runtime.py TASK_ROOT MODULE.FUNCTION EVENT_JSON RESPONSE_JSON

The context object has the attributes "Using the Lambda context object to retrieve Python function
information" (AWS Lambda Developer Guide) documents, read from the variables the runtime sets
("Defined runtime environment variables"). The response file receives the handler's return value
as `{"result": ...}`, or the error as Lambda reports an unhandled one: errorMessage, errorType,
stackTrace (then the process exits 1). This file imports nothing of sagespec: it runs in the
function's own process.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any


class LambdaContext:
    def __init__(self, deadline: float):
        self._deadline = deadline
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["SAGESPEC_LAMBDA_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None  # set only for calls from the AWS Mobile SDK
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        # The handler's frames, not this runtime's (as Lambda's runtime interface client reports them).
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
    }


def main(argv: list[str]) -> int:
    task_root, handler, event_path, response_path = argv
    deadline = time.monotonic() + int(os.environ.get("SAGESPEC_LAMBDA_TIMEOUT", "3"))
    sys.path[0] = task_root  # the package's root, where Lambda's runtime imports the handler from (LAMBDA_TASK_ROOT)
    os.chdir(task_root)
    module_name, function_name = handler.rsplit(".", 1)
    with open(event_path, encoding="utf-8") as handle:
        event = json.load(handle)
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        context = LambdaContext(deadline)
        print(f"START RequestId: {context.aws_request_id} Version: {context.function_version}", flush=True)
        result = function(event, context)
        print(f"END RequestId: {context.aws_request_id}", flush=True)
        response: dict[str, Any] = {"result": result}
        code = 0
    except Exception as exc:  # noqa: BLE001  (any exception of the handler is the function's error, as Lambda reports it)
        response, code = _error(exc), 1
        print(json.dumps(response), flush=True)
    try:
        text = json.dumps(response)
    except (TypeError, ValueError) as exc:  # Lambda serializes the return value with json too
        text, code = json.dumps({"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError"}), 1
    with open(response_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
