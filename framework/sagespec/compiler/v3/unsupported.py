"""What the SDK v3 backend does not build yet, said before anything is built.

Each entry names the spec feature, where it is, and why v3 differs; compile reports every one
as E5010 at its line (the README's support table lists the same). Everything else the schema
accepts compiles on both SDKs.
"""

from __future__ import annotations

from typing import Any

from sagespec.spec.references import model_sources, parameter_named

# kind -> why the v3 backend does not build it yet
KINDS = {
    "tuning": "v3's HyperparameterTuner (sagemaker.train.tuner) takes a ModelTrainer; sagespec does not build tuning steps on it yet",
}
HINT = "compile with SDK v2 (pip install 'sagemaker>=2.257,<3'), where every spec feature compiles"


def problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(spec path, message) for every feature of validated spec data that v3 cannot build yet."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for i, step in enumerate(data.get("steps", [])):
        kind = step.get("kind")
        if kind in KINDS:
            found.append((("steps", i, "kind"), f"step '{step['name']}' is a {kind} step: {KINDS[kind]}"))
        estimator = step.get("estimator") or {}
        if kind == "training" and isinstance(estimator.get("debugger_hook_config"), dict):
            found.append(
                (
                    ("steps", i, "estimator", "debugger_hook_config"),
                    f"step '{step['name']}' configures SageMaker Debugger's hook: v3's ModelTrainer sets no DebugHookConfig",
                )
            )
        if kind == "processing" and (step.get("processor") or {}).get("framework") == "pyspark":
            found.append(
                (
                    ("steps", i, "processor", "framework"),
                    f"step '{step['name']}' runs on PySpark: v3's PySparkProcessor (sagemaker.core.spark) is not built by sagespec yet",
                )
            )
        for key in ("volume_size_gb", "max_runtime_seconds") if kind in ("training", "tuning") else ():
            if parameter_named(estimator.get(key)):
                found.append(
                    (
                        ("steps", i, "estimator", key),
                        f"step '{step['name']}' takes its {key} from a parameter: v3's ModelTrainer (Compute, StoppingCondition) "
                        "takes an integer only",
                    )
                )
        if kind == "emr" and step.get("retry"):
            found.append(
                (
                    ("steps", i, "retry"),
                    f"step '{step['name']}' retries an EMR step: v3's EMRStep (sagemaker.mlops.workflow.emr_step) takes no retry policies",
                )
            )
        if kind == "create_model" and step.get("accelerator_type"):
            found.append(
                (
                    ("steps", i, "accelerator_type"),
                    f"step '{step['name']}' asks for an Elastic Inference accelerator: v3's ModelBuilder takes none",
                )
            )
        if kind in ("create_model", "register_model") and step.get("sdk_step", "ModelStep") != "ModelStep":
            found.append(
                (
                    ("steps", i, "sdk_step"),
                    f"step '{step['name']}' asks for {step['sdk_step']}: SDK v3 has only ModelStep (sagemaker.mlops.workflow.model_step)",
                )
            )
        if kind in ("register_model", "create_model"):
            if isinstance(step.get("model"), list):
                found.append(
                    (
                        ("steps", i, "model"),
                        f"step '{step['name']}' serves an inference pipeline of {len(step['model'])} models: "
                        "v3's ModelBuilder lists are not built by sagespec yet",
                    )
                )
                continue
            for below, source in model_sources(step):
                if source.get("entry_point"):
                    found.append(
                        (
                            ("steps", i, *below, "entry_point"),
                            f"step '{step['name']}' serves its model with an inference script: SDK v3 repacks every such model in a "
                            "_RepackModelStep (a training job on the scikit-learn image) that sagespec does not build or run yet",
                        )
                    )
    return found
