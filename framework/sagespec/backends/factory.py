"""The only place that looks at the target: each factory returns the local or the SageMaker
implementation of one service of sagespec.backends.protocols, for a Context.

Each implementation is imported when it is asked for: a registry command loads neither the local
executor nor boto3 (start-up time; see bench/registry.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagespec.accounts.places import Places, places_of
from sagespec.backends.local.database import connect
from sagespec.backends.protocols import Hosting, Objects, Pipelines, PolicyAdmin, Registry, Scheduler
from sagespec.context import TARGETS, Context
from sagespec.diagnostics import UserError
from sagespec.iam import Principal

if TYPE_CHECKING:
    from sagespec.spec.topology import Account


def _local(ctx: Context) -> bool:
    if ctx.target not in TARGETS:
        raise UserError("E6015", f"unknown target '{ctx.target}'", hint="local or aws", exit_code=2)
    return ctx.target == "local"


def places(ctx: Context) -> Places:
    """The context's partition and region, and what its accounts file adds to IAM decisions."""
    return places_of(ctx.topology(), ctx.partition, ctx.region)


def open_pipelines(ctx: Context) -> Pipelines:
    """Pipelines and executions of the project's workspace or of SageMaker."""
    if _local(ctx):
        from sagespec.backends.local.executor.runner import LocalPipelines  # start-up: the executor only for pipelines

        return LocalPipelines(ctx.workspace, places(ctx), ctx.isolation)
    from sagespec.backends.sagemaker.pipelines import SageMakerPipelines  # start-up: boto3 only for aws

    return SageMakerPipelines(ctx.session())


def open_registry(ctx: Context, as_: str | None = None, local_default: str | None = None) -> Registry:
    """The model registry: locally as a caller of the topology (--as, else `local_default`, else
    $SAGESPEC_AS), on SageMaker as a profile (--as: an account of the topology, or a profile
    name; else the standard credential chain)."""
    if _local(ctx):
        from sagespec.backends.local.registry import LocalRegistry  # start-up: each service's implementation when asked for

        return LocalRegistry(connect(ctx.workspace), ctx.caller(as_ or local_default), ctx.region, ctx.partition)
    from sagespec.backends.sagemaker.registry import SageMakerRegistry  # start-up: boto3 only for aws

    account = ctx.topology().find(as_) if as_ else None
    return SageMakerRegistry(ctx.session(profile=(account.profile if account else as_) or None))


def open_hosting(ctx: Context, account: Account, assume_role_name: str | None = None, caller: Principal | None = None) -> Hosting:
    """The hosting API of a workload `account` (a topology Account): locally as `caller` (the role
    promotion assumes there; default the account's own role), on SageMaker through the account's
    profile, its assume_role, or `assume_role_name` assumed in it."""
    if _local(ctx):
        from sagespec.backends.local.hosting import LocalHosting  # start-up: each service's implementation when asked for

        return LocalHosting(connect(ctx.workspace), ctx.workspace, caller or account.principal, places(ctx), account.id)
    from sagespec.backends.sagemaker.hosting import SageMakerHosting  # start-up: boto3 only for aws

    return SageMakerHosting(ctx.account_session(account, assume_role_name), account.id)


def searches_accounts(ctx: Context) -> bool:
    """Whether a resource may be looked for in every workload account: locally they share one
    control plane; on SageMaker each is an account of its own, reached with its own credentials
    and requests, so the user names it."""
    return _local(ctx)


def open_objects(ctx: Context) -> Objects:
    """Objects by their S3 URI: the workspace's local object store, or S3."""
    if _local(ctx):
        from sagespec.backends.local.objects import ObjectStore  # start-up: each service's implementation when asked for

        return ObjectStore(ctx.workspace, connect(ctx.workspace))
    from sagespec.backends.sagemaker.objects import S3Objects  # start-up: boto3 only for aws

    return S3Objects(ctx.session())


def open_policy_admin(ctx: Context, assume_role_name: str | None = None) -> PolicyAdmin:
    """Where the accounts' policies are applied: the local control plane, or each AWS account."""
    if _local(ctx):
        from sagespec.backends.local.policy_admin import LocalPolicyAdmin  # start-up: each service's implementation when asked for

        return LocalPolicyAdmin(ctx.workspace)
    from sagespec.backends.sagemaker.policies import SageMakerPolicyAdmin  # start-up: boto3 only for aws

    return SageMakerPolicyAdmin(lambda account: ctx.account_session(account, assume_role_name))


def open_scheduler(ctx: Context) -> Scheduler:
    """EventBridge Scheduler: schedules start pipelines on SageMaker only."""
    if _local(ctx):
        raise UserError(
            "E6015",
            "the local control plane runs no schedules",
            hint="`sagespec schedules list` shows when a schedule would fire; `schedules apply` creates it on AWS",
            exit_code=2,
        )
    from sagespec.backends.sagemaker.schedules import EventBridgeSchedules  # start-up: boto3 only for aws

    return EventBridgeSchedules(ctx.session())
