"""What a finished execution says to a person: failed steps' last log lines, each condition's
outcome with the values it compared, registered versions and notifications."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# How SageMaker's condition types read as comparisons (ConditionStep: "Conditions" in the
# pipeline definition JSON schema).
CONDITION_SYMBOLS = {"LessThanOrEqualTo": "<=", "LessThan": "<", "GreaterThan": ">", "GreaterThanOrEqualTo": ">=", "Equals": "=="}
LOG_TAIL_LINES = 15


def _compared(evaluated: list[dict[str, Any]]) -> str:
    parts = []
    for e in evaluated:
        if e["LeftValue"] is None and e["Type"] in ("Or", "Not", "In"):
            parts.append(e["Left"])
        elif isinstance(e["LeftValue"], (int, float)) and not isinstance(e["LeftValue"], bool):
            parts.append(f"{e['Left']} {e['LeftValue']:.4g} {CONDITION_SYMBOLS.get(e['Type'], e['Type'])} {e['RightValue']}")
        else:
            parts.append(f"{e['Left']} {e['LeftValue']}")
    return "; ".join(parts)


def summary_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"execution {result['arn']}: {result['status']}"]
    for step in result["steps"]:
        if step["status"] == "Failed" and step.get("log_path"):
            lines.append(f"--- log of {step['name']} ({step['log_path']}), last lines:")
            text = Path(step["log_path"]).read_text(encoding="utf-8", errors="replace").splitlines()
            lines += ["    " + line for line in text[-LOG_TAIL_LINES:]]
        elif step["status"] == "Failed" and step.get("failure_reason"):  # on SageMaker: the log is in CloudWatch
            lines.append(f"step {step['name']} failed: {step['failure_reason']}")
        if step["type"] == "Condition" and "Outcome" in step["properties"]:
            compared = _compared(step["properties"].get("Evaluated", []))
            lines.append(
                f"condition {step['name']}: {str(step['properties'].get('Outcome')).lower()}" + (f" ({compared})" if compared else "")
            )
        if step["type"] == "RegisterModel" and step["status"] == "Succeeded" and "ModelPackageArn" in step["properties"]:
            props = step["properties"]
            lines.append(f"registered {props['ModelPackageArn']} ({props['ModelApprovalStatus']})")
    for message in result.get("outbox", []):
        lines.append(f"notification for {message['function_arn']}: {json.dumps(message['payload'])}")
    return lines
