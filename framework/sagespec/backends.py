"""The only place that looks at the target: each factory returns the local or the SageMaker
implementation of one protocol (Pipelines, Registry, Hosting)."""

from __future__ import annotations

from sagespec.project import Project


def open_pipelines(project: Project, target: str | None = None, region: str | None = None):
    """Pipelines and executions (sagespec.pipelines.Pipelines) of the project's workspace or of SageMaker."""
    if (target or project.target) == "local":
        from sagespec.executor.runner import LocalPipelines
        from sagespec.permissions import places_of

        topology = project.topology()
        return LocalPipelines(project.workspace, places=places_of(topology) if topology.accounts else None)
    from sagespec.pipelines.sagemaker import SageMakerPipelines

    return SageMakerPipelines(project.session(region))


def open_registry(project: Project, as_: str | None, target: str | None = None, region: str | None = None):
    """The model registry: locally as a caller of the topology (--as), on SageMaker as a profile."""
    topology = project.topology()
    if (target or project.target) == "local":
        from sagespec.local.database import connect
        from sagespec.local.registry import LocalRegistry
        from sagespec.spec.topology import resolve_caller

        caller = resolve_caller(as_, topology)
        return LocalRegistry(connect(project.workspace), caller, region or topology.region, topology.partition)
    from sagespec.registry.sagemaker import SageMakerRegistry

    account = topology.find(as_) if as_ else None
    profile = (account.profile if account else as_) or None
    return SageMakerRegistry(project.session(region or project.region or topology.region or None, profile=profile))


def open_hosting(project: Project, account, target: str | None = None, assume_role_name: str | None = None, caller=None):
    """The hosting API (sagespec.hosting.Hosting) of a workload `account` (a topology Account),
    locally as `caller` (the role promotion assumes there; default the account's own role)."""
    topology = project.topology()
    if (target or project.target) == "local":
        from sagespec.local.database import connect
        from sagespec.local.hosting import LocalHosting
        from sagespec.permissions import places_of

        principal = caller or account.principal
        return LocalHosting(
            connect(project.workspace), project.workspace, principal, topology.region, topology.partition, places_of(topology), account.id
        )
    from sagespec.hosting.sagemaker import SageMakerHosting

    return SageMakerHosting(project.session_for(assume_role_name)(account), account.id)


def open_objects(project: Project):
    """The workspace's local object store (what local runs read as S3)."""
    from sagespec.local.database import connect
    from sagespec.local.objects import ObjectStore

    return ObjectStore(project.workspace, connect(project.workspace))
