"""What promotion commands talk to, local or in AWS: the registry as a caller, each workload
account's hosting, and a reader for S3 objects (metrics, test data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sagespec.diagnostics import UserError


@dataclass
class Backends:
    target: str
    topology: object
    registry: object
    hosting_for: Callable  # accounts.Account -> Hosting
    read_object: Callable[[str], bytes]  # s3://bucket/key -> bytes (the local object store, or S3)
    test_data_for: Callable  # ModelPackage -> s3 URI of test.csv, or None when it cannot be found
    workspace: Path | None = None

    def read(self, uri: str) -> bytes:
        """An object by its S3 URI, or a file on this machine (`--data FILE`)."""
        if "://" not in uri and Path(uri).is_file():
            return Path(uri).read_bytes()
        return self.read_object(uri)

    def find_endpoint(self, name: str, account: str | None):
        """(Account, Hosting) of endpoint `name`: in `account` when named, else the workload account that has it."""
        topology = self.topology
        if account:
            found = topology.find(account) or topology.by_id(account)
            if found is None or not found.workload:
                raise UserError(
                    "E6014",
                    f"'{account}' is not a workload account of the accounts file",
                    hint="one of: " + ", ".join(a.name for a in topology.workloads),
                )
            return found, self.hosting_for(found)
        if self.target != "local":
            raise UserError("E6015", "say which workload account hosts the endpoint: --account qa|prod", exit_code=2)
        hits = [(a, h) for a in topology.workloads for h in [self.hosting_for(a)] if h.describe_endpoint(name)]
        if not hits:
            raise UserError(
                "E6005", f"endpoint {name} does not exist in any workload account", hint="`sagespec endpoints list` shows the endpoints"
            )
        if len(hits) > 1:
            raise UserError("E6015", f"endpoint {name} exists in several accounts; pick one with --account", exit_code=2)
        return hits[0]


def open_backends(project, as_: str | None, region: str | None = None, assume_role_name: str | None = None) -> Backends:
    """The registry (as `as_`), each workload account's hosting and an object reader, for the project's target."""
    from sagespec.backends import open_hosting, open_registry
    from sagespec.iam import Principal
    from sagespec.promotion.deployer import deployer_arn

    topology = project.topology()
    if not topology.workloads:
        raise UserError(
            "E6014",
            "promotion needs workload accounts (qa, prod) in the accounts file",
            hint=f"add accounts.workloads to {topology.source or 'pipelines/accounts.yaml'}",
        )
    registry = open_registry(project, as_, region=region)
    hosting = {}

    def hosting_for(account):
        # One connection (and one session) per account for the whole command.
        if account.name not in hosting:
            # Promotion acts in a workload account as the deployer role it assumes there (on AWS through
            # --assume-role-name; locally its stored policies decide every hosting call).
            caller = Principal(account.id, deployer_arn(topology, account))
            hosting[account.name] = open_hosting(project, account, assume_role_name=assume_role_name, caller=caller)
        return hosting[account.name]

    if project.target == "local":
        from sagespec.local.objects import ObjectStore
        from sagespec.local.pipelines import PipelineStore

        store = ObjectStore(project.workspace, registry.conn)
        executions = PipelineStore(project.workspace, registry.conn)
        return Backends(
            project.target,
            topology,
            registry,
            hosting_for,
            store.get,
            lambda package: local_test_data(registry, executions, store, package),
            project.workspace,
        )

    def read_s3(uri: str) -> bytes:
        from sagespec.aws import aws_errors

        bucket, _, key = uri.removeprefix("s3://").partition("/")
        with aws_errors(f"reading {uri}"):
            return registry.session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    return Backends(project.target, topology, registry, hosting_for, read_s3, lambda package: None)


def local_test_data(registry, executions, store, package) -> str | None:
    """test.csv of the execution that produced `package` (its "test" processing output)."""
    for execution in [e.uri for e in registry.lineage(package.arn) if e.kind == "execution" and e.uri]:
        for properties in executions.step_properties(execution, "Processing"):
            outputs = properties.get("ProcessingOutputConfig", {}).get("Outputs", {})
            # The executor keys outputs by name (what Get paths index); a list is SageMaker's own shape.
            for output in outputs.values() if isinstance(outputs, dict) else outputs:
                uri = (output.get("S3Output") or {}).get("S3Uri", "").rstrip("/") + "/test.csv"
                if output.get("OutputName") == "test" and store.exists(uri):
                    return uri
    return None
