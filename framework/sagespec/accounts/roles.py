"""Identity policies rendered from what the pipelines need (sagespec.accounts.needs), and nothing more.

Each need becomes a grant of one action on one resource, under the statement its kind names
(StartAndWatchJobs, PassRolesToSageMaker, ReadInputs, WriteOutputs, ...). Grants of one kind
whose actions act on the same resources share a statement; condition values of one kind are
listed together (any of them may match, as in IAM). So every action is granted exactly where a
step uses it, and `accounts check --pipelines` can tell a grant no step uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sagespec.accounts.grants import SYMBOLIC_PARTITION
from sagespec.accounts.needs import Need
from sagespec.aws.partitions import Partition

VERSION = "2012-10-17"
# Which inline policy a caller's needs go to.
POLICY_OF = {
    "pipeline role": "PipelineService",
    "job role": "JobRuntime",
    "endpoint role": "EndpointRuntime",
    "scheduler": "StartScheduledPipelines",
}
# Condition keys whose values are patterns (a run fills in the `*`), tested with StringLike.
LIKE_KEYS = {"s3:prefix"}


def _statement(sid: str, actions: list[str], resources: list[str], condition: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions if len(actions) > 1 else actions[0]}
    statement["Resource"] = resources if len(resources) > 1 else resources[0]
    if condition:
        statement["Condition"] = condition
    return statement


def _condition(values: dict[str, set[str]]) -> dict[str, Any]:
    condition: dict[str, dict[str, Any]] = {}
    for key, found in sorted(values.items()):
        listed = sorted(found)
        operator = "StringLike" if key in LIKE_KEYS or any("*" in v for v in listed) else "StringEquals"
        condition.setdefault(operator, {})[key] = listed if len(listed) > 1 else listed[0]
    return condition


def identity_policies(needs: list[Need], only: Callable[[Need], bool] | None = None) -> dict[str, dict[str, Any]]:
    """{policy name: document} for the needs of one role (`only` filters needs, e.g. S3 and KMS)."""
    # (policy, sid, condition keys) -> action -> resources, and the condition values seen
    groups: dict[tuple[str, str, tuple[str, ...]], dict[str, set[str]]] = {}
    conditions: dict[tuple[str, str, tuple[str, ...]], dict[str, set[str]]] = {}
    for need in needs:
        if need.caller not in POLICY_OF or (only is not None and not only(need)):
            continue  # trust needs are the role's trust policy, not an identity policy
        keys = tuple(sorted(k for k, _ in need.context))
        group = (POLICY_OF[need.caller], need.grant, keys)
        groups.setdefault(group, {}).setdefault(need.action, set()).add(need.resource)
        for key, value in need.context:
            conditions.setdefault(group, {}).setdefault(key, set()).add(str(value))
    policies: dict[str, dict[str, Any]] = {}
    for group in sorted(groups):
        policy, sid, _ = group
        by_resources: dict[tuple[str, ...], list[str]] = {}
        for action, granted in sorted(groups[group].items()):
            by_resources.setdefault(tuple(sorted(granted)), []).append(action)
        statements = policies.setdefault(policy, {"Version": VERSION, "Statement": []})["Statement"]
        for index, (resources, actions) in enumerate(sorted(by_resources.items(), key=lambda item: item[1])):
            name = sid if index == 0 else f"{sid}{index + 1}"
            statements.append(_statement(name, actions, list(resources), _condition(conditions.get(group, {}))))
    return dict(sorted(policies.items()))


def symbolic(document: dict[str, Any], literals: list[tuple[str, str]], aws: Partition, region: str) -> dict[str, Any]:
    """The document with the topology's values as CloudFormation ${Parameters}: literals first
    (key ARN, bucket, then account IDs between colons), then partition, region and DNS suffix."""
    text = json.dumps(document)
    for literal, placeholder in literals:
        if literal.isdigit():
            text = re.sub(rf"(?<=:){literal}(?=:)", placeholder, text)
        else:
            text = text.replace(literal, placeholder)
    text = text.replace(f'"arn:{aws.name}:', f'"arn:{SYMBOLIC_PARTITION.name}:').replace(f":{region}:", ":${AWS::Region}:")
    text = text.replace(f".{region}.{aws.dns_suffix}", f".${{AWS::Region}}.{SYMBOLIC_PARTITION.dns_suffix}")
    rendered: dict[str, Any] = json.loads(text)
    return rendered
