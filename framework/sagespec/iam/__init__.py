"""An IAM policy evaluator: may this principal do this action on this resource?

It follows "Policy evaluation logic", "Policy evaluation for requests within a single account"
and "Cross-account policy evaluation logic" (IAM User Guide):

1. An explicit Deny in the identity policies or the resource policy wins.
2. A principal and a resource in different partitions never meet (aws, aws-cn and aws-us-gov are
   separate: the same twelve digits in another partition are another account).
3. Within one account, an Allow in the identity policies suffices, and so does an Allow in the
   resource policy that names the principal itself (its role ARN, or `*`). A resource policy
   that names only the account (`123456789012`, `arn:aws:iam::123456789012:root`) delegates
   to the account's IAM policies, so the identity side must allow.
4. Across accounts, both must allow: the resource policy must name the caller (its account or
   its ARN) and the caller's identity policies must allow the action on the resource.
5. KMS key policies and role trust policies are required even within the account ("AWS KMS
   keys ... key policy", "IAM roles ... trust policy"): without an Allow there, nothing else
   grants; an Allow that names the account again delegates to the identity policies.
6. The account root user has every permission of its account: it needs no identity policy,
   but a resource in another account (or a key whose policy does not allow it) still decides.
7. Everything else is an implicit deny, including a principal with no identity policies at all
   (a made-up role): there is nothing that allows it.

Statements: Effect, Principal / NotPrincipal (`*`, account ID, `arn:...:root`, role, user and
assumed-role ARNs, `{"Service": ...}`; no partial wildcards, as IAM does not allow them),
Action / NotAction, Resource / NotResource (with `*` and `?`; actions case-insensitive), and
Condition (sagespec.iam.conditions). Policy variables in Resource and Condition values are
substituted from the request context in version 2012-10-17 policies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from sagespec.aws import partitions
from sagespec.diagnostics import UserError
from sagespec.iam.conditions import conditions_hold, glob_matches, substitute

# A policy document, parsed or as the JSON text AWS stores.
Policy: TypeAlias = str | Mapping[str, Any]


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account and the ARN the call is made as (role, user, root), or an AWS
    service (`account` empty, `arn` the service principal, e.g. sagemaker.amazonaws.com)."""

    account: str
    arn: str

    @classmethod
    def role(cls, account: str, role_name: str, partition: str) -> Principal:
        return cls(account, partitions.partition(partition).role(account, role_name))

    @classmethod
    def root(cls, account: str, partition: str) -> Principal:
        return cls(account, partitions.partition(partition).root(account))

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("", name)

    @property
    def is_service(self) -> bool:
        return not self.arn.startswith("arn:")

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")

    @property
    def partition(self) -> str | None:
        return partition_of(self.arn)

    @property
    def type(self) -> str:
        """aws:PrincipalType: Account (root), AssumedRole, User or AWSService."""
        if self.is_service:
            return "AWSService"
        if self.is_root:
            return "Account"
        return "User" if ":user/" in self.arn else "AssumedRole"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # AWS's wording after the resource, e.g. "because no identity-based policy allows ..."
    statement: str | None = None  # Sid (or #index) of the deciding statement
    policy: str | None = None  # which policy decided: "resource policy" or the identity policy's name

    def message(self, request: Request) -> str:
        """The AccessDenied text AWS returns ("Troubleshoot access denied error messages")."""
        return f"User: {request.principal.arn} is not authorized to perform: {request.action} on resource: {request.resource} {self.reason}"


@dataclass
class Request:
    principal: Principal
    action: str
    resource: str
    resource_account: str
    context: dict[str, Any] = field(default_factory=dict)

    def condition_context(self) -> dict[str, Any]:
        """The request context: global keys IAM sets on every request, then the service's keys.
        SDK calls always use HTTPS, so aws:SecureTransport is true unless the caller says otherwise."""
        base: dict[str, Any] = {
            "aws:principalarn": self.principal.arn,
            "aws:principaltype": self.principal.type,
            "aws:resourceaccount": self.resource_account,
            "aws:securetransport": "true",
        }
        if self.principal.is_service:
            base["aws:principalservicename"] = self.principal.arn
        else:
            base["aws:principalaccount"] = self.principal.account
        return {**base, **{k.lower(): v for k, v in self.context.items()}}


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(policy: Policy | None) -> list[dict[str, Any]]:
    if policy is None:
        return []
    document = json.loads(policy) if isinstance(policy, str) else policy
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def partition_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" else None


def _account_entry(value: str, partition: str | None) -> str | None:
    """The account an entry names as an account principal (bare ID or :root ARN), else None."""
    if value.isdigit() and len(value) == 12:
        return value
    parts = value.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5] == "root":
        return parts[4] if partition is None or parts[1] == partition else "-"
    return None


def _entries(spec: object) -> tuple[list[str], list[str]]:
    """(AWS entries, Service entries) of a Principal element."""
    if spec == "*":
        return ["*"], []
    if isinstance(spec, dict):
        return [str(v) for v in _as_list(spec.get("AWS"))], [str(v) for v in _as_list(spec.get("Service"))]
    return [str(v) for v in _as_list(spec)], []


def _same_session_role(entry: str, caller: str) -> bool:
    """An assumed-role session (arn:aws:sts::A:assumed-role/R/s) is a principal of the role
    arn:aws:iam::A:role/[path/]R (the session ARN carries no path)."""
    if ":assumed-role/" not in caller:
        return False
    prefix, _, rest = caller.partition(":assumed-role/")
    caller_parts, role = prefix.split(":"), rest.split("/", 1)[0]
    parts = entry.split(":", 5)
    return (
        len(parts) == 6
        and parts[:3] == ["arn", caller_parts[1], "iam"]
        and parts[4] == caller_parts[4]
        and parts[5].startswith("role/")
        and parts[5].rsplit("/", 1)[-1] == role
    )


def principal_match(spec: object, principal: Principal, partition: str | None) -> str | None:
    """How a Principal element names `principal`: "specific" (its ARN, or `*`), "account" (its
    account, in the resource's partition), or None. A bare account ID stands for the root of that
    account in the resource's own partition ("AWS JSON policy elements: Principal")."""
    aws, services = _entries(spec)
    if principal.is_service:
        return "specific" if principal.arn in services or "*" in aws else None
    match = None
    for entry in aws:
        if entry == "*" or entry == principal.arn or _same_session_role(entry, principal.arn):
            return "specific"
        account = _account_entry(entry, partition)
        if account is not None and account == principal.account and (partition is None or principal.partition == partition):
            match = "specific" if principal.is_root else "account"
    return match


def _not_principal_excepts(spec: object, principal: Principal, partition: str | None) -> bool:
    """Whether NotPrincipal spares the caller. AWS checks the account, then the role, then the
    session ("AWS JSON policy elements: NotPrincipal"): a role is spared only when both its
    account and its ARN are listed, a root user when its account is."""
    aws, services = _entries(spec)
    if principal.is_service:
        return principal.arn in services
    accounts = {_account_entry(e, partition) for e in aws}
    if principal.account not in accounts or principal.partition != (partition or principal.partition):
        return False
    return principal.is_root or any(e == principal.arn or _same_session_role(e, principal.arn) for e in aws)


def _matches_any(patterns: object, value: str, context: dict[str, Any], version: str | None, ignore_case: bool = False) -> bool:
    for pattern in _as_list(patterns):
        text = substitute(str(pattern), context, version)
        if text is not None and glob_matches(text, value, ignore_case):
            return True
    return False


def _applies(
    statement: dict[str, Any], request: Request, context: dict[str, Any], version: str | None, resource_side: bool
) -> tuple[bool | None, str | None]:
    """(whether the statement applies, how it names the principal). None: undecidable."""
    naming = None
    if resource_side:
        partition = partition_of(request.resource)
        if "Principal" in statement:
            naming = principal_match(statement["Principal"], request.principal, partition)
            if naming is None:
                return False, None
        elif "NotPrincipal" in statement:
            if statement.get("Effect") != "Deny":
                return False, None  # NotPrincipal with Allow is not supported: it grants nothing
            if _not_principal_excepts(statement["NotPrincipal"], request.principal, partition):
                return False, None
            naming = "specific"
        else:
            return False, None  # a resource policy statement without a principal grants nothing
    if "Action" in statement:
        if not _matches_any(statement["Action"], request.action, context, None, ignore_case=True):
            return False, None
    elif "NotAction" in statement:
        if _matches_any(statement["NotAction"], request.action, context, None, ignore_case=True):
            return False, None
    else:
        return False, None
    if "Resource" in statement:
        if not _matches_any(statement["Resource"], request.resource, context, version):
            return False, None
    elif "NotResource" in statement:
        if _matches_any(statement["NotResource"], request.resource, context, version):
            return False, None
    elif not resource_side:
        return False, None  # an identity policy statement needs Resource or NotResource
    held = conditions_hold(statement.get("Condition"), context, version)
    return held, naming


@dataclass
class _Scan:
    deny: tuple[str, str] | None = None  # (policy, sid)
    allow: tuple[str, str] | None = None
    naming: str | None = None  # for the resource side: "specific" or "account"


def _scan(policies: list[tuple[str, Policy | None]], request: Request, resource_side: bool) -> _Scan:
    found, context = _Scan(), request.condition_context()
    for name, policy in policies:
        document = json.loads(policy) if isinstance(policy, str) else policy or {}
        version = document.get("Version")
        for index, statement in enumerate(statements(document)):
            applies, naming = _applies(statement, request, context, version, resource_side)
            sid = statement.get("Sid") or f"#{index}"
            effect = statement.get("Effect")
            if effect == "Deny" and applies is not False:  # an undecidable Deny still denies
                found.deny = found.deny or (name, sid)
            elif effect == "Allow" and applies is True:
                if found.allow is None or (naming == "specific" and found.naming != "specific"):
                    found.allow, found.naming = (name, sid), naming
    return found


def _mandatory_resource_policy(request: Request) -> bool:
    """KMS keys and IAM roles (for sts:AssumeRole*) decide with their own policy even in-account."""
    resource = request.resource
    if ":kms:" in resource and ":key/" in resource:
        return True
    return ":iam::" in resource and ":role/" in resource and request.action.lower().startswith("sts:assumerole")


def _named(policies: Sequence[Policy | tuple[str, Policy | None]] | None) -> list[tuple[str, Policy | None]]:
    named: list[tuple[str, Policy | None]] = []
    for index, policy in enumerate(policies or []):
        named.append(policy if isinstance(policy, tuple) else (f"identity policy #{index}", policy))
    return named


def identity_allows(request: Request, identity_policies: Sequence[Policy | tuple[str, Policy | None]]) -> bool:
    """Whether the identity policies alone allow the request (no explicit deny, one Allow): the
    identity side of a decision, e.g. what a managed policy grants whatever the resource says."""
    found = _scan(_named(identity_policies), request, resource_side=False)
    return found.deny is None and found.allow is not None


def evaluate(
    request: Request, resource_policy: Policy | None = None, identity_policies: Sequence[Policy | tuple[str, Policy | None]] | None = None
) -> Decision:
    """Decide one request. `identity_policies` are the caller's (documents, or (name, document)
    pairs); None or [] means it has none. A root user's identity side allows everything, and an
    AWS service principal is decided by the resource policy alone."""
    action = request.action
    principal = request.principal
    if not principal.is_service and principal.partition != partition_of(request.resource) and partition_of(request.resource):
        # Partitions are separate: no policy of this partition can name a principal of another.
        return Decision(False, f"because no resource-based policy allows the {action} action")
    resource = _scan([("resource policy", resource_policy)] if resource_policy else [], request, resource_side=True)
    identity = _scan(_named(identity_policies), request, resource_side=False) if not principal.is_service else _Scan()
    if resource.deny:
        return Decision(False, "with an explicit deny in a resource-based policy", resource.deny[1], resource.deny[0])
    if identity.deny:
        return Decision(False, "with an explicit deny in an identity-based policy", identity.deny[1], identity.deny[0])
    identity_side = principal.is_root or identity.allow is not None
    identity_detail = identity.allow or ((None, None) if not principal.is_root else ("root user", None))
    no_identity = f"because no identity-based policy allows the {action} action"
    no_resource = f"because no resource-based policy allows the {action} action"
    same_account = principal.account == request.resource_account
    if principal.is_service:
        if resource.allow:
            return Decision(True, "allowed by the resource-based policy", resource.allow[1], resource.allow[0])
        return Decision(False, no_resource)
    if same_account and not _mandatory_resource_policy(request):
        if resource.allow and resource.naming == "specific":
            return Decision(True, "allowed by the resource-based policy", resource.allow[1], resource.allow[0])
        if identity_side:
            return Decision(True, "allowed by the identity-based policy", identity_detail[1], identity_detail[0])
        return Decision(False, no_identity)
    if not resource.allow:
        return Decision(False, no_resource)
    if same_account and resource.naming == "specific":
        return Decision(True, "allowed by the resource-based policy", resource.allow[1], resource.allow[0])
    if not identity_side:
        return Decision(False, no_identity)
    return Decision(True, "allowed by both the resource-based and the identity-based policy", resource.allow[1], resource.allow[0])


class AccessDenied(UserError):
    """A denied request, worded as AWS words AccessDenied, naming the deciding statement."""

    def __init__(self, request: Request, decision: Decision, hint: str | None = None):
        where = f" (statement {decision.statement} of the {decision.policy})" if decision.statement and decision.policy else ""
        super().__init__("E6002", decision.message(request) + where, hint=hint or _hint(decision))
        self.caller, self.action, self.resource = request.principal.arn, request.action, request.resource
        self.decision = decision


def _hint(decision: Decision) -> str:
    if "explicit deny" in decision.reason:
        # An explicit Deny wins over every Allow (the policy evaluation logic, IAM User Guide): no grant
        # elsewhere changes the answer; only the statement that denies, or another caller, does.
        return "an explicit deny wins over any allow: no grant changes this; ask whether this caller should do it at all"
    if "identity-based" in decision.reason:
        return "the caller's role grants it in an identity policy (`sagespec accounts render`, then `accounts apply`)"
    return "the resource owner grants it in the resource policy (`sagespec accounts render`, or `sagespec models policy put`)"
