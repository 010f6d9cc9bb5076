"""What a finished execution says: failed steps' log tails, condition outcomes, registrations, notifications."""

from sagespec.cli.present.summary import summary_lines


def test_summary_of_a_failed_execution(tmp_path):
    log = tmp_path / "step.log"
    log.write_text("\n".join(f"line {i}" for i in range(30)) + "\n")
    result = {
        "arn": "arn:aws:sagemaker:us-east-1:111111111111:pipeline/p/execution/e1",
        "status": "Failed",
        "steps": [
            {"name": "Train", "type": "Training", "status": "Failed", "log_path": str(log), "properties": {}},
            {
                "name": "Gate",
                "type": "Condition",
                "status": "Succeeded",
                "log_path": None,
                "properties": {
                    "Outcome": False,
                    "Evaluated": [
                        {"Type": "LessThanOrEqualTo", "Left": "regression_metrics.mse.value", "LeftValue": 0.31234, "RightValue": 0.3},
                        {"Type": "Equals", "Left": "flag", "LeftValue": True, "RightValue": True},
                    ],
                },
            },
            {
                "name": "Register",
                "type": "RegisterModel",
                "status": "Succeeded",
                "log_path": None,
                "properties": {"ModelPackageArn": "arn:...:model-package/g/3", "ModelApprovalStatus": "PendingManualApproval"},
            },
        ],
        "outbox": [{"function_arn": "arn:aws:lambda:us-east-1:111111111111:function:notify", "payload": {"mse": 0.31}}],
    }
    lines = summary_lines(result)
    assert lines[0] == "execution arn:aws:sagemaker:us-east-1:111111111111:pipeline/p/execution/e1: Failed"
    assert lines[1] == f"--- log of Train ({log}), last lines:"
    assert lines[2:17] == [f"    line {i}" for i in range(15, 30)]
    assert "condition Gate: false (regression_metrics.mse.value 0.3123 <= 0.3; flag True)" in lines
    assert "registered arn:...:model-package/g/3 (PendingManualApproval)" in lines
    assert lines[-1] == 'notification for arn:aws:lambda:us-east-1:111111111111:function:notify: {"mse": 0.31}'


def test_a_sagemaker_execution_without_local_logs_still_summarises():
    result = {
        "arn": "x",
        "status": "Succeeded",
        "steps": [{"name": "Gate", "type": "Condition", "status": "Succeeded", "log_path": None, "properties": {"Outcome": True}}],
    }
    assert summary_lines(result) == ["execution x: Succeeded", "condition Gate: true"]
