"""The QualityCheck step locally: Model Monitor's analyzer job (sagespec.backends.local.runtime.model_monitor_analyzer
with this interpreter, given the container's environment) over the dataset, then the step's
decisions as "Baseline calculation, drift detection and lifecycle with ClarifyCheck and
QualityCheck steps" documents them:

| skip_check | register_new_baseline | checks against the previous baseline | BaselineUsedForDriftCheck* |
|---|---|---|---|
| false | false | yes | the previous baseline |
| false | true | yes | the newly calculated one |
| true | false | no | the previous baseline |
| true | true | no | the newly calculated one |

The previous baseline is the supplied one (SuppliedBaselineStatistics/Constraints), else the
DriftCheckBaselines of the group's latest Approved version, read as the pipeline's role through
the group's policy. With no previous baseline a check fails (set skip_check for a first run);
without one to register, the calculated baseline stands in.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from sagespec.backends.local.executor.handlers import StepRun, handler, max_runtime_of
from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.registry import LocalRegistry
from sagespec.backends.records import NotFound
from sagespec.diagnostics import UserError
from sagespec.iam import Principal

SECTIONS = {"DATA_QUALITY": "ModelDataQuality", "MODEL_QUALITY": "ModelQuality"}
SHOWN_VIOLATIONS = 3


def _violations(count: int) -> str:
    return f"{count} violation{'' if count == 1 else 's'}"


def _flag(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def previous_baseline(step: dict[str, Any], run: StepRun) -> tuple[str, str] | None:
    """(statistics URI, constraints URI) to check against, or None."""
    supplied = run.ctx.resolve(step.get("SuppliedBaselineStatistics")), run.ctx.resolve(step.get("SuppliedBaselineConstraints"))
    if all(supplied):
        return supplied
    group = run.ctx.resolve(step.get("ModelPackageGroupName"))
    if not group:
        return None

    role = run.role_arn
    try:
        approved = LocalRegistry(run.conn, Principal(role.split(":")[4], role), run.region, run.aws).list_packages(
            group, "Approved", latest=True
        )
    except NotFound:
        return None
    except UserError as exc:
        raise StepFailed(f"reading the previous baseline from {group}: {exc.message}") from None
    baselines = ((approved[0].drift_check_baselines or {}) if approved else {}).get(SECTIONS[step["CheckType"]]) or {}
    statistics, constraints = (baselines.get("Statistics") or {}).get("S3Uri"), (baselines.get("Constraints") or {}).get("S3Uri")
    return (statistics, constraints) if statistics and constraints else None


@handler("QualityCheck")
def quality_check(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    args = run.ctx.resolve(step["Arguments"])
    skip = _flag(run.ctx.resolve(step.get("SkipCheck", False)))
    register_new = _flag(run.ctx.resolve(step.get("RegisterNewBaseline", False)))
    fail_on_violation = _flag(run.ctx.resolve(step.get("FailOnViolation", True)))
    env = dict(args.get("Environment") or {})
    dataset = args["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    source, out, baseline_dir = run.work / "input" / "dataset", run.work / "output", run.work / "baseline"
    source.mkdir(parents=True, exist_ok=True)
    run.store.download(dataset, source)
    env.update(dataset_source=str(source), output_path=str(out))
    previous = None if skip and register_new else previous_baseline(step, run)  # the new one is used: nothing to look up
    if not skip:
        if previous is None:
            raise StepFailed(
                "ClientError: there is no baseline to check against (none supplied, and no approved version of the group has one):"
                " set skip_check (and register_new_baseline) for the first run"
            )
        baseline_dir.mkdir(parents=True, exist_ok=True)
        for name, uri in zip(("statistics", "constraints"), previous):
            local = baseline_dir / f"{name}.json"
            local.write_bytes(run.store.get(uri))
            env[f"baseline_{name}"] = str(local)
    analyzer = [sys.executable, "-m", "sagespec.backends.local.runtime.model_monitor_analyzer"]
    run.run_script(analyzer, env, run.work, label="the model monitor analyzer", max_runtime=max_runtime_of(args))
    output = args["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].rstrip("/")
    run.upload_folder(out, output)
    calculated = (f"{output}/statistics.json", f"{output}/constraints.json")
    used = calculated if register_new or previous is None else previous
    properties: dict[str, Any] = {
        "ProcessingJobName": run.job_name,
        "CalculatedBaselineStatistics": calculated[0],
        "CalculatedBaselineConstraints": calculated[1],
        "BaselineUsedForDriftCheckStatistics": used[0],
        "BaselineUsedForDriftCheckConstraints": used[1],
    }
    if skip:
        run.log(f"check skipped; baseline calculated at {output}")
        return properties
    assert previous is not None  # without it the check failed before the analyzer ran
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    # Not SageMaker's properties (it has none for the outcome): where the report is, and its size.
    properties.update(ViolationReport=f"{output}/constraint_violations.json", ViolationCount=len(violations))
    run.log(f"{_violations(len(violations))} of the baseline {previous[1]}")
    if violations and fail_on_violation:
        shown = "; ".join(f"{v.get('feature_name') or v.get('metric_name')}: {v['description']}" for v in violations[:SHOWN_VIOLATIONS])
        more = f" (and {len(violations) - SHOWN_VIOLATIONS} more)" if len(violations) > SHOWN_VIOLATIONS else ""
        raise StepFailed(
            f"ClientError: {_violations(len(violations))} of the baseline ({output}/constraint_violations.json): {shown}{more}"
        )
    return properties
