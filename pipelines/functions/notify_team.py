"""The Lambda function that tells the team a model missed the quality gate (the pipeline's
NotifyMseTooHigh step): its event is the step's inputs, its message goes to the function's log
(CloudWatch Logs on AWS, the step's log locally), and it answers with the step's `status` output."""

import json


def lambda_handler(event, context):
    message = (
        f"{event['pipeline']}: execution {event['execution']} missed the gate"
        f" (test MSE {float(event['mse']):.4f} above {float(event['threshold']):.4f}); nothing was registered"
    )
    print(json.dumps({"function": context.function_name, "request": context.aws_request_id, "message": message}))
    return {"status": "notified", "message": message}
