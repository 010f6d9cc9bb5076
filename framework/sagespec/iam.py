"""An IAM policy evaluator for the questions the cross-account workflow asks.

"May this principal do this action on this resource?" given the resource's policy (model package
group, S3 bucket, KMS key, ECR repository) and, optionally, the caller's identity policies.
IAM's rules, as documented in "Policy evaluation logic" and "Cross-account policy evaluation":

- an explicit Deny in any applicable policy wins;
- within one account, an Allow in the identity policy *or* the resource policy suffices;
- across accounts, the resource policy must allow the caller *and* the caller's identity
  policies must allow the action (identity policies not given are taken as allowing it: the
  local control plane does not model every role's policies, only resource policies);
- otherwise the request is implicitly denied.

Supported statement elements: Effect, Principal / NotPrincipal (`*`, account ID,
`arn:...:root`, role ARN, `{"AWS": [...]}`), Action / NotAction and Resource / NotResource with
`*` and `?` wildcards (actions case-insensitive), and Condition with the String*/Arn* operators
and Bool over a request context. An unknown condition operator fails closed: the statement
never grants, and a Deny with it still denies.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account and the role (or root) ARN the call is made as."""

    account: str
    arn: str

    @classmethod
    def role(cls, account: str, role_name: str, partition: str = "aws") -> Principal:
        return cls(account, f"arn:{partition}:iam::{account}:role/{role_name}")

    @classmethod
    def root(cls, account: str, partition: str = "aws") -> Principal:
        return cls(account, f"arn:{partition}:iam::{account}:root")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    statement: str | None = None  # Sid (or index) of the deciding statement


@dataclass
class Request:
    principal: Principal
    action: str
    resource: str
    resource_account: str
    context: dict = field(default_factory=dict)

    def condition_context(self) -> dict:
        return {
            "aws:principalaccount": self.principal.account,
            "aws:principalarn": self.principal.arn,
            "aws:resourceaccount": self.resource_account,
            **{k.lower(): v for k, v in self.context.items()},
        }


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(policy) -> list[dict]:
    if policy is None:
        return []
    if isinstance(policy, str):
        policy = json.loads(policy)
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def _partition(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" else None


def _principal_matches(spec, principal: Principal, partition: str | None = None) -> bool:
    """Whether a Principal element names `principal`. A bare account ID stands for
    arn:<partition>:iam::<account>:root in the resource's own partition ("AWS JSON policy elements:
    Principal"), so the same twelve digits in aws-cn or aws-us-gov are another account."""
    if spec == "*":
        return True
    values = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "AWS":
                values += _as_list(value)
    else:
        values = _as_list(spec)
    caller_partition = _partition(principal.arn)
    for value in values:
        if value == "*":
            return True
        if value == principal.account and (partition is None or caller_partition == partition):
            return True
        if value.endswith(":root") and value.split(":")[4:5] == [principal.account] and _partition(value) == caller_partition:
            return True
        if fnmatch.fnmatchcase(principal.arn, value):
            return True
    return False


def _action_matches(patterns, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _as_list(patterns))


def _resource_matches(patterns, resource: str) -> bool:
    return any(fnmatch.fnmatchcase(resource, p) for p in _as_list(patterns))


_STRING_OPERATORS = {
    "StringEquals": lambda a, b: a == b,
    "StringNotEquals": lambda a, b: a != b,
    "StringEqualsIgnoreCase": lambda a, b: a.lower() == b.lower(),
    "StringLike": lambda a, b: fnmatch.fnmatchcase(a, b),
    "StringNotLike": lambda a, b: not fnmatch.fnmatchcase(a, b),
    "ArnEquals": lambda a, b: a == b,
    "ArnLike": lambda a, b: fnmatch.fnmatchcase(a, b),
    "ArnNotEquals": lambda a, b: a != b,
    "ArnNotLike": lambda a, b: not fnmatch.fnmatchcase(a, b),
    "Bool": lambda a, b: str(a).lower() == str(b).lower(),
}
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def _conditions_hold(conditions, context: dict) -> bool | None:
    """True/False, or None when an operator is not understood (the caller fails closed)."""
    if not conditions:
        return True
    for operator, tests in conditions.items():
        compare = _STRING_OPERATORS.get(operator)
        if compare is None or not isinstance(tests, dict):
            return None
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                if operator not in _NEGATED:
                    return False
                continue
            values = _as_list(expected)
            if operator in _NEGATED:
                if not all(compare(str(actual), str(v)) for v in values):
                    return False
            elif not any(compare(str(actual), str(v)) for v in values):
                return False
    return True


def _applies(statement: dict, request: Request, resource_policy: bool) -> bool | None:
    if resource_policy:
        partition = _partition(request.resource)
        if "Principal" in statement and not _principal_matches(statement["Principal"], request.principal, partition):
            return False
        if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], request.principal, partition):
            return False
        if "Principal" not in statement and "NotPrincipal" not in statement:
            return False  # a resource policy statement without a principal grants nothing
    if "Action" in statement and not _action_matches(statement["Action"], request.action):
        return False
    if "NotAction" in statement and _action_matches(statement["NotAction"], request.action):
        return False
    if "Resource" in statement and not _resource_matches(statement["Resource"], request.resource):
        return False
    if "NotResource" in statement and _resource_matches(statement["NotResource"], request.resource):
        return False
    if "Action" not in statement and "NotAction" not in statement:
        return False
    return _conditions_hold(statement.get("Condition"), request.condition_context())


def _scan(policies, request: Request, resource_policy: bool) -> tuple[str | None, str | None]:
    """('Deny'|'Allow'|None, deciding statement id) over a list of policies."""
    allowed_by = None
    for policy in policies:
        for index, statement in enumerate(statements(policy)):
            applies = _applies(statement, request, resource_policy)
            sid = statement.get("Sid") or f"#{index}"
            effect = statement.get("Effect")
            if effect == "Deny" and applies is not False:  # unknown condition: deny anyway
                return "Deny", sid
            if effect == "Allow" and applies is True and allowed_by is None:
                allowed_by = sid
    return ("Allow", allowed_by) if allowed_by else (None, None)


def evaluate(request: Request, resource_policy=None, identity_policies: list | None = None) -> Decision:
    """Decide one request. `identity_policies=None` means the caller's own policies are not modelled."""
    resource_verdict, resource_sid = _scan([resource_policy], request, resource_policy=True)
    identity_verdict, identity_sid = (None, None)
    if identity_policies is not None:
        identity_verdict, identity_sid = _scan(identity_policies, request, resource_policy=False)
    if resource_verdict == "Deny":
        return Decision(False, "explicitly denied by the resource policy", resource_sid)
    if identity_verdict == "Deny":
        return Decision(False, "explicitly denied by the caller's identity policy", identity_sid)
    identity_allows = identity_policies is None or identity_verdict == "Allow"
    same_account = request.principal.account == request.resource_account
    if same_account:
        if resource_verdict == "Allow" or (identity_policies is not None and identity_verdict == "Allow"):
            return Decision(True, "allowed within the account", resource_sid or identity_sid)
        if identity_policies is None:
            return Decision(True, "same-account call (identity policies not modelled)")
        return Decision(False, "no policy allows it")
    if resource_verdict != "Allow":
        return Decision(False, f"the resource policy does not allow account {request.principal.account}")
    if not identity_allows:
        return Decision(False, "the caller's identity policy does not allow it", None)
    return Decision(True, "allowed across accounts by the resource policy", resource_sid)
