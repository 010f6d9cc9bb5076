"""What steps that hand work to other services ask IAM for: Lambda, callback (SQS) and EMR.

Sources: "IAM Access Management" for SageMaker Pipelines (a Lambda step invokes its function as
the pipeline role; a callback step sends its message to the queue; an EMR step adds a step to
the cluster, watches and can cancel it) and the Service Authorization Reference for the ARNs. An
EMR step with a cluster_config also launches its cluster and terminates it after the step:
RunJobFlow, DescribeCluster and TerminateJobFlows, as AWS's own policy for launching a cluster
from a workflow has it (Step Functions' "IAM policies for Amazon EMR", createCluster), and passes
the cluster's roles, each to the service that takes it, as the AWS managed policy
AmazonEMRFullAccessPolicy_v2 conditions them: the service role to EMR, the auto-scaling role to
Application Auto Scaling, the instances' role to EC2. JobFlowRole names an instance profile;
its role is taken to have the profile's name, as EMR's default roles (EMR_EC2_DefaultRole) do.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sagespec.aws.partitions import Partition

if TYPE_CHECKING:
    from sagespec.accounts.needs import _Collector

EMR_ACTIONS = (
    "elasticmapreduce:AddJobFlowSteps",
    "elasticmapreduce:DescribeStep",
    "elasticmapreduce:CancelSteps",
    "elasticmapreduce:DescribeCluster",
)


def queue_arn(url: str, aws: Partition) -> str:
    """The ARN of the queue at https://sqs.<region>.<partition's DNS suffix>/<account>/<queue>."""
    pattern = rf"^https://sqs\.(?P<region>[a-z0-9-]+)\.{re.escape(aws.dns_suffix)}/(?P<account>\d{{12}})/(?P<queue>[A-Za-z0-9_.-]+)$"
    found = re.match(pattern, url or "")
    if not found:
        return "*"
    return aws.arn("sqs", found["region"], found["account"], found["queue"])


def _lambda(c: _Collector, step: str, definition_step: dict[str, Any], pipeline_role: str, account: str) -> None:
    c.add(step, "pipeline role", pipeline_role, "lambda:InvokeFunction", definition_step["FunctionArn"], "InvokeFunctions")


def _callback(c: _Collector, step: str, definition_step: dict[str, Any], pipeline_role: str, account: str) -> None:
    queue = queue_arn(definition_step.get("SqsQueueUrl", ""), c.places.aws)
    c.add(step, "pipeline role", pipeline_role, "sqs:SendMessage", queue, "SendCallbackMessages")


# RunJobFlow's role keys -> the service each is passed to (AmazonEMRFullAccessPolicy_v2's conditions)
PASSED_ROLES = (("ServiceRole", "elasticmapreduce"), ("AutoScalingRole", "application-autoscaling"), ("JobFlowRole", "ec2"))
LAUNCH_ACTIONS = ("elasticmapreduce:RunJobFlow", "elasticmapreduce:DescribeCluster", "elasticmapreduce:TerminateJobFlows")


def _launch(c: _Collector, step: str, config: dict[str, Any], pipeline_role: str, account: str) -> None:
    for action in LAUNCH_ACTIONS:
        c.add(step, "pipeline role", pipeline_role, action, c.arn(action, account, ClusterId="*"), "LaunchEmrClusters")
    for key, service in PASSED_ROLES:
        name = config.get(key)
        if isinstance(name, str) and name:
            role = name if name.startswith("arn:") else c.places.aws.role(account, name.rsplit("/", 1)[-1])
            passed = {"iam:PassedToService": c.places.aws.service_principal(service)}
            c.add(step, "pipeline role", pipeline_role, "iam:PassRole", role, "LaunchEmrClusters", passed)


def _emr(c: _Collector, step: str, definition_step: dict[str, Any], pipeline_role: str, account: str) -> None:
    arguments = definition_step.get("Arguments", {})
    if isinstance(arguments.get("ClusterConfig"), dict):
        _launch(c, step, arguments["ClusterConfig"], pipeline_role, account)
    cluster = c.resolve(arguments.get("ClusterId", "*"))
    for action in EMR_ACTIONS:
        c.add(step, "pipeline role", pipeline_role, action, c.arn(action, account, ClusterId=cluster), "RunEmrSteps")
    if arguments.get("ExecutionRoleArn"):
        c.add(
            step,
            "pipeline role",
            pipeline_role,
            "iam:PassRole",
            arguments["ExecutionRoleArn"],
            "PassRolesToEmr",
            {"iam:PassedToService": c.places.aws.service_principal("elasticmapreduce")},
        )


REQUESTS = {"Lambda": _lambda, "Callback": _callback, "EMR": _emr}
