"""A local world for promotion tests: the project's topology applied to a fresh workspace and a
tiny real SavedModel (prediction = first feature * 2 + 0.5) registered as versions of the group."""

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import BUCKET, GROUP_ARN, ROOT, local_registry, seeded_compile_cache


def tiny_model_archive(slope: float) -> bytes:
    """model.tar.gz with a SavedModel under 1/: features float32 [n, 8] -> slope * x0 + 0.5."""
    import tempfile

    import tensorflow as tf

    class Linear(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="features")])
        def serve(self, features):
            return {"prediction": features[:, :1] * slope + 0.5}

    module = Linear()
    with tempfile.TemporaryDirectory() as folder:
        tf.saved_model.save(module, f"{folder}/1", signatures={"serving_default": module.serve})
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(f"{folder}/1", arcname="1")
    return buffer.getvalue()


def sample_rows(n: int = 50) -> tuple[str, list[list[float]], list[float]]:
    rows = [[float(i % 7) + 0.25, 1, 2, 3, 4, 5, 6, 7] for i in range(n)]
    targets = [2 * r[0] + 0.5 + (0.1 if i % 2 else -0.1) for i, r in enumerate(rows)]
    text = "target,f0,f1,f2,f3,f4,f5,f6,f7\n" + "\n".join(",".join(str(v) for v in [t, *r]) for t, r in zip(targets, rows))
    return text, rows, targets


@dataclass
class World:
    workspace: Path
    conn: object
    topology: object

    def registry(self, who: str):
        from sagespec.spec.topology import resolve_caller

        return local_registry(self.conn, resolve_caller(who, self.topology, "aws"))

    def hosting(self, stage: str):
        """Hosting in a workload account as promotion reaches it: as the deployer role there."""
        from sagespec.accounts.deployer import deployer_arn
        from sagespec.backends.factory import open_hosting
        from sagespec.context import Context
        from sagespec.iam import Principal

        project = Context.at(self.topology.source.parents[1], self.workspace, target="local")
        account = self.topology.find(stage)
        return open_hosting(project, account, caller=Principal(account.id, deployer_arn(self.topology, account)))

    def register(
        self,
        slope: float = 2.0,
        status: str = "Approved",
        registered_slope: float | None = None,
        archive: bytes | None = None,
        image: str = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu",
        before: list[dict] | None = None,
    ) -> int:
        """A version whose registered MSE is the true MSE on sample_rows() of a model with `registered_slope`
        (by default the model's own slope, so the QA test passes). `before`: containers served ahead
        of it (an inference pipeline)."""
        from sagespec.backends.local.objects import ObjectStore

        store = ObjectStore(self.workspace, self.conn)
        version = len(self.registry("deployment").list_packages(GROUP_ARN)) + 1
        # Where a training job of the pipelines writes it: what the endpoint roles may read.
        model_uri, metrics_uri = f"{BUCKET}/job-v{version}/output/model.tar.gz", f"{BUCKET}/job-v{version}/evaluation.json"
        store.put(model_uri, archive if archive is not None else tiny_model_archive(slope))
        _, rows, targets = sample_rows()
        registered_slope = slope if registered_slope is None else registered_slope
        mse = sum((registered_slope * r[0] + 0.5 - t) ** 2 for r, t in zip(rows, targets)) / len(rows)
        store.put(metrics_uri, json.dumps({"regression_metrics": {"mse": {"value": mse}}}).encode())
        store.put(f"{BUCKET}/data/test.csv", sample_rows()[0].encode())
        spec = {
            "Containers": [*(before or []), {"Image": image, "ModelDataUrl": model_uri}],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        }
        metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}}
        package = self.registry("data-science").register(GROUP_ARN, spec, "PendingManualApproval", metrics)
        if status != "PendingManualApproval":
            self.registry("deployment").update_status(package.arn, status, "test")
        return package.version


_NEEDS = []


def project_needs():
    """What the project's pipelines need from IAM (compiled once per test process)."""
    if not _NEEDS:
        from sagespec.context import Context
        from sagespec.workflows.project_pipelines import pipeline_needs

        _NEEDS.extend(pipeline_needs(Context.at(ROOT)))
    return _NEEDS


def _world(workspace: Path):
    from helpers import apply_local
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.hosting import stop_process
    from sagespec.spec.topology import load_topology

    topology = load_topology(ROOT, validate=True)
    apply_local(topology, workspace, project_needs())
    conn = connect(workspace)
    yield World(workspace, conn, topology)
    for row in conn.execute("SELECT pid FROM endpoints").fetchall():
        stop_process(row["pid"])


@pytest.fixture
def world(tmp_path):
    yield from _world(seeded_compile_cache(tmp_path / "ws"))


@pytest.fixture(scope="module")
def module_world(tmp_path_factory):
    """One world for a module whose tests share one endpoint (each leaves it serving)."""
    yield from _world(seeded_compile_cache(tmp_path_factory.mktemp("module") / "ws"))
