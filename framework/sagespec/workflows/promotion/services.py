"""What promotion talks to on the context's target: the registry as a caller, each workload
account's hosting (as the deployer role promotion assumes there), the object store (registered
metrics, test data) and the pipelines whose executions produced a version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sagespec.accounts.deployer import deployer_arn
from sagespec.backends.factory import open_hosting, open_objects, open_pipelines, open_registry, searches_accounts
from sagespec.backends.protocols import Hosting, Objects, Pipelines, Registry
from sagespec.backends.records import ModelPackage
from sagespec.context import Context
from sagespec.diagnostics import UserError
from sagespec.iam import Principal
from sagespec.spec.topology import Account, Topology

# Who acts in the registry unless --as says: promotion is the deployment account's job.
DEFAULT_CALLER = "deployment"


@dataclass
class Services:
    topology: Topology
    registry: Registry
    objects: Objects
    pipelines: Pipelines
    open_account: Callable[[Account], Hosting]
    searches_accounts: bool  # an endpoint may be looked for in every workload account (backends.factory)
    _hosting: dict[str, Hosting] = field(default_factory=dict)

    def hosting_for(self, account: Account) -> Hosting:
        """The hosting API of a workload account: one connection (and one session) per account
        for the whole command."""
        if account.name not in self._hosting:
            self._hosting[account.name] = self.open_account(account)
        return self._hosting[account.name]

    def read(self, uri: str) -> bytes:
        """An object by its S3 URI, or a file on this machine (`--data FILE`)."""
        if "://" not in uri and Path(uri).is_file():
            return Path(uri).read_bytes()
        return self.objects.get(uri)

    def find_endpoint(self, name: str, account: str | None) -> tuple[Account, Hosting]:
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
        if not self.searches_accounts:
            names = "|".join(a.name for a in topology.workloads)
            raise UserError("E6015", f"say which workload account hosts the endpoint: --account {names}", exit_code=2)
        hits = [(a, h) for a in topology.workloads for h in [self.hosting_for(a)] if h.describe_endpoint(name)]
        if not hits:
            raise UserError(
                "E6005", f"endpoint {name} does not exist in any workload account", hint="`sagespec endpoints list` shows the endpoints"
            )
        if len(hits) > 1:
            raise UserError("E6015", f"endpoint {name} exists in several accounts; pick one with --account", exit_code=2)
        return hits[0]

    def test_data_for(self, package: ModelPackage) -> str | None:
        """test.csv of the execution that produced `package` (its processing step's "test" output),
        found through the version's lineage; None when it cannot be found."""
        try:
            executions = [e.uri for e in self.registry.lineage(package.arn) if e.kind == "execution" and e.uri]
            for execution in executions:
                for step in self.pipelines.describe_execution(execution)["steps"]:
                    if step["type"] != "Processing":
                        continue
                    outputs = (step.get("properties") or {}).get("ProcessingOutputConfig", {}).get("Outputs", {})
                    # The local executor keys outputs by name (what Get paths index); a list is SageMaker's own shape.
                    for output in outputs.values() if isinstance(outputs, dict) else outputs:
                        uri: str = (output.get("S3Output") or {}).get("S3Uri", "").rstrip("/") + "/test.csv"
                        if output.get("OutputName") == "test" and self.objects.exists(uri):
                            return uri
        except UserError:
            return None  # the lineage or the execution cannot be read as this caller: say so with E7006
        return None


def open_services(ctx: Context, as_: str | None = None, assume_role_name: str | None = None) -> Services:
    """The registry (as `as_`, default the deployment account), each workload account's hosting
    and the object store, for the context's target."""
    topology = ctx.topology()
    if not topology.workloads:
        raise UserError(
            "E6014",
            "promotion needs workload accounts (qa, prod) in the accounts file",
            hint=f"add accounts.workloads to {topology.source or 'pipelines/accounts.yaml'}",
        )

    def as_deployer(account: Account) -> Hosting:
        # Promotion acts in a workload account as the deployer role it assumes there (on AWS
        # through --assume-role-name; locally its stored policies decide every hosting call).
        return open_hosting(ctx, account, assume_role_name, Principal(account.id, deployer_arn(topology, account)))

    return Services(
        topology, open_registry(ctx, as_, DEFAULT_CALLER), open_objects(ctx), open_pipelines(ctx), as_deployer, searches_accounts(ctx)
    )
