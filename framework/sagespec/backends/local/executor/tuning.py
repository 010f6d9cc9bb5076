"""`Tuning` steps: a hyperparameter tuning job's training jobs, run here, the best chosen.

What SageMaker documents, done the same way ("Understand the hyperparameter tuning strategies",
"How Hyperparameter Tuning Works", DescribeHyperParameterTuningJob):

- Grid runs every combination of the categorical ranges, once each.
- Random draws each job's values independently, from the range's scale (Logarithmic: uniform in
  log space; ReverseLogarithmic: 1 - x, log-uniform; Auto and Linear: uniform).
- Bayesian is sequential model-based search: here optuna's TPE sampler (the first jobs are
  random, as SageMaker's are, then each job's values come from the results so far). Hyperband's
  job choices are Random here; its early stops, and early_stopping Auto, are not applied: every
  job runs to the end (the definition still carries them for SageMaker).
- Up to MaxParallelTrainingJobs jobs run at once, and no more than this machine's cores.
- Each training job is a recorded job `<tuning job>-<NNN>-<8 hex>` with its own log and
  FinalMetricDataList; its objective is the last value its log shows for the objective metric.
  Jobs whose objective never appears count as ObjectiveStatus Failed; the tuning job fails only
  when no job succeeds.
- Warm start: the parents' jobs are given to the search as already evaluated.

Properties are DescribeHyperParameterTuningJob's, plus TrainingJobSummaries (best first, as
ListTrainingJobsForHyperParameterTuningJob sorted by FinalObjectiveMetricValue) for
get_top_model_s3_uri.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.aws import arns
from sagespec.backends.local.database import connect, now
from sagespec.backends.local.executor.handlers import StepRun, handler, runnable
from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.executor.training import train
from sagespec.backends.local.objects import ObjectStore
from sagespec.definition import TUNING_JOB_NAME_LENGTH

if TYPE_CHECKING:
    from sagespec.backends.local.executor.images import Runtime

MAX_SUMMARIES = 50  # TuningStep's TrainingJobSummaries hold the top 50 jobs


def _unquote(value: str) -> Any:
    """Categorical values of framework estimators are JSON-encoded ("\\"gbtree\\"")."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _optuna() -> Any:
    import optuna  # start-up: optuna (~0.4 s) only when a tuning step runs, not whenever the executor is loaded

    return optuna


class SearchSpace:
    """The ranges of HyperParameterTuningJobConfig.ParameterRanges as optuna distributions, and
    the hyperparameter strings a training job receives."""

    def __init__(self, ranges: dict[str, Any]):
        optuna = _optuna()
        self.distributions: dict[str, Any] = {}  # name -> optuna distribution
        self.reversed: set[str] = set()
        self.kinds: dict[str, str] = {}
        for item in ranges.get("ContinuousParameterRanges", []):
            low, high, scaling = float(item["MinValue"]), float(item["MaxValue"]), item.get("ScalingType", "Auto")
            if scaling == "ReverseLogarithmic":  # x = 1 - y, y log-uniform: dense near 1
                self.reversed.add(item["Name"])
                low, high = 1 - high, 1 - low
            log = scaling in ("Logarithmic", "ReverseLogarithmic")
            self.distributions[item["Name"]] = optuna.distributions.FloatDistribution(low, high, log=log)
            self.kinds[item["Name"]] = "continuous"
        for item in ranges.get("IntegerParameterRanges", []):
            log = item.get("ScalingType") == "Logarithmic"
            self.distributions[item["Name"]] = optuna.distributions.IntDistribution(int(item["MinValue"]), int(item["MaxValue"]), log=log)
            self.kinds[item["Name"]] = "integer"
        for item in ranges.get("CategoricalParameterRanges", []):
            self.distributions[item["Name"]] = optuna.distributions.CategoricalDistribution(list(item["Values"]))
            self.kinds[item["Name"]] = "categorical"

    def hyperparameters(self, params: dict[str, Any]) -> dict[str, str]:
        """What the training job receives for the search's values (strings, as SageMaker sends)."""
        found: dict[str, str] = {}
        for name, value in params.items():
            if name in self.reversed:
                value = 1 - value
            found[name] = value if isinstance(value, str) else f"{value:.10g}" if isinstance(value, float) else str(value)
        return found

    def grid(self) -> list[dict[str, Any]]:
        names = list(self.distributions)
        choices = [self.distributions[n].choices for n in names]
        return [dict(zip(names, combination)) for combination in itertools.product(*choices)]


def sampler(strategy: str, seed: int | None, space: SearchSpace, budget: int) -> Any:
    optuna = _optuna()
    if strategy == "Bayesian":
        # Half the budget (up to 10) random first, as SageMaker's Bayesian search starts; constant
        # liar keeps jobs running at the same time from getting the same values.
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(1, min(10, budget // 2)), constant_liar=True)
    return optuna.samplers.RandomSampler(seed=seed)  # Random, Hyperband's choices; Grid's are enqueued


def tuning_job_name(run: StepRun) -> str:
    return f"{run.execution_id}-{run.work.name}".replace("_", "-")[:TUNING_JOB_NAME_LENGTH].strip("-")


class _Search:
    """One tuning job: asks the study for values, runs training jobs, tells it their objective."""

    def __init__(self, args: dict[str, Any], run: StepRun, runtime: Runtime):
        optuna = _optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.args, self.run, self.runtime = args, run, runtime
        config = args["HyperParameterTuningJobConfig"]
        self.objective = config["HyperParameterTuningJobObjective"]
        self.space = SearchSpace(config.get("ParameterRanges") or {})
        self.strategy = config.get("Strategy", "Bayesian")
        limits = config.get("ResourceLimits") or {}
        self.budget = len(self.space.grid()) if self.strategy == "Grid" else int(limits["MaxNumberOfTrainingJobs"])
        self.parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs", 1)), os.cpu_count() or 1, self.budget))
        self.name = tuning_job_name(run)
        direction = "minimize" if self.objective["Type"] == "Minimize" else "maximize"
        seed = config.get("RandomSeed")
        self.study = optuna.create_study(direction=direction, sampler=sampler(self.strategy, seed, self.space, self.budget))
        if self.strategy == "Grid":  # every combination once, in the order the ranges are written
            for combination in self.space.grid():
                self.study.enqueue_trial(combination)
        self.lock = threading.Lock()
        self.jobs: list[dict[str, Any]] = []

    def warm_start(self, parents: list[dict[str, Any]]) -> int:
        """Give the search the parents' evaluated jobs (values inside this job's ranges only)."""
        optuna = _optuna()
        added = 0
        for parent in parents:
            for job in parent.get("TrainingJobSummaries") or []:
                metric = job.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
                tuned = {k: _unquote(v) if self.space.kinds.get(k) == "categorical" else v for k, v in job["TunedHyperParameters"].items()}
                params = self._params_of(tuned)
                if "Value" not in metric or params is None:
                    continue
                trial = optuna.trial.create_trial(params=params, distributions=self.space.distributions, value=metric["Value"])
                self.study.add_trial(trial)
                added += 1
        return added

    def _params_of(self, tuned: dict[str, Any]) -> dict[str, Any] | None:
        params: dict[str, Any] = {}
        for name, distribution in self.space.distributions.items():
            if name not in tuned:
                return None
            raw = tuned[name]
            if self.space.kinds[name] == "categorical":
                value = next((c for c in distribution.choices if _unquote(c) == raw or c == raw), None)
            else:
                value = float(raw) if self.space.kinds[name] == "continuous" else int(float(raw))
                value = 1 - value if name in self.space.reversed else value
            if value is None or (self.space.kinds[name] != "categorical" and not distribution.low <= value <= distribution.high):
                return None
            params[name] = value
        return params

    def one_job(self, index: int) -> dict[str, Any] | None:
        if self.run.interrupted and self.run.interrupted():  # the execution is stopping: start no more jobs
            return None
        with self.lock:
            trial = self.study.ask(self.space.distributions)
        tuned = self.space.hyperparameters(trial.params)
        digest = hashlib.sha256(json.dumps(tuned, sort_keys=True).encode()).hexdigest()[:8]
        job_name = f"{self.name}-{index:03d}-{digest}"
        work = self.run.work / "jobs" / job_name
        work.mkdir(parents=True, exist_ok=True)
        log = work / "job.log"
        log.touch()
        definition = self.args["TrainingJobDefinition"]
        # On SageMaker each job has its own instance; here jobs running together share the cores,
        # so each job's OpenMP/BLAS threads are its share (unless the job sets them itself).
        share = str(max(1, (os.cpu_count() or 1) // self.parallel))
        threads = {name: share for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        job_args = {
            **{k: v for k, v in definition.items() if k not in ("StaticHyperParameters", "HyperParameterTuningResourceConfig")},
            "Environment": {**threads, **(definition.get("Environment") or {})},
            "HyperParameters": {**(definition.get("StaticHyperParameters") or {}), **tuned},
            "ResourceConfig": definition.get("HyperParameterTuningResourceConfig") or definition.get("ResourceConfig") or {},
        }
        summary: dict[str, Any] = {
            "TrainingJobName": job_name,
            "TunedHyperParameters": tuned,
            "TrainingStartTime": now(),
            "CreationTime": now(),
        }
        conn = connect(self.run.store.workspace)
        job_run = replace(
            self.run, work=work, log_path=log, name=job_name, conn=conn, store=ObjectStore(self.run.store.workspace, conn), progress=None
        )
        try:
            described = train(job_args, self.runtime, job_run)
        except (StepFailed, OSError) as exc:
            summary.update(TrainingJobStatus="Failed", FailureReason=str(exc), ObjectiveStatus="Failed")
            with self.lock:
                self.study.tell(trial, state=_failed())
        else:
            summary["TrainingJobStatus"] = "Completed"
            value = next((m["Value"] for m in described["FinalMetricDataList"] if m["MetricName"] == self.objective["MetricName"]), None)
            with self.lock:
                if value is None:
                    summary.update(ObjectiveStatus="Failed", FailureReason=f"the log shows no {self.objective['MetricName']}")
                    self.study.tell(trial, state=_failed())
                else:
                    metric = {"Type": self.objective["Type"], "MetricName": self.objective["MetricName"], "Value": value}
                    summary.update(ObjectiveStatus="Succeeded", FinalHyperParameterTuningJobObjectiveMetric=metric)
                    self.study.tell(trial, value)
        finally:
            conn.close()
        summary["TrainingEndTime"] = now()
        summary["TrainingJobArn"] = self.run.arn(arns.account_of(self.run.role_arn), f"training-job/{job_name.lower()}")
        self._report(index, summary, log)
        return summary

    def _report(self, index: int, summary: dict[str, Any], log: Path) -> None:
        metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric")
        shown = f"{metric['MetricName']} {metric['Value']:g}" if metric else summary.get("FailureReason", "")
        values = ", ".join(f"{k}={v}" for k, v in summary["TunedHyperParameters"].items())
        with self.lock:
            self.jobs.append(summary)
            self.run.log(f"training job {summary['TrainingJobName']} {summary['TrainingJobStatus']}: {values}: {shown} (log {log})")
            best = self.best()
            if self.run.progress:
                best_text = f", best {best['FinalHyperParameterTuningJobObjectiveMetric']['Value']:g}" if best else ""
                self.run.progress(f"{len(self.jobs)}/{self.budget} training jobs{best_text}")

    def ranked(self) -> list[dict[str, Any]]:
        scored = [j for j in self.jobs if j.get("ObjectiveStatus") == "Succeeded"]
        sign = 1 if self.objective["Type"] == "Minimize" else -1
        return sorted(scored, key=lambda j: sign * j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])

    def best(self) -> dict[str, Any] | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def search(self) -> None:
        self.run.log(
            f"tuning job {self.name}: {self.strategy}, {self.budget} training jobs, {self.parallel} at a time, "
            f"{self.objective['Type']} {self.objective['MetricName']}"
        )
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="tuning") as pool:
            # One job per slot at a time, so each new job's values can use every result so far.
            for _ in pool.map(self.one_job, range(1, self.budget + 1)):
                pass

    def properties(self) -> dict[str, Any]:
        counters = {status: sum(1 for j in self.jobs if j["TrainingJobStatus"] == status) for status in ("Completed", "Failed")}
        objective = {status: sum(1 for j in self.jobs if j.get("ObjectiveStatus") == status) for status in ("Succeeded", "Failed")}
        ranked = self.ranked()
        account = self.run.role_arn.split(":")[4]
        return {
            "HyperParameterTuningJobName": self.name,
            "HyperParameterTuningJobArn": self.run.arn(account, f"hyper-parameter-tuning-job/{self.name.lower()}"),
            "HyperParameterTuningJobStatus": "Completed",
            "HyperParameterTuningJobConfig": self.args["HyperParameterTuningJobConfig"],
            "TrainingJobDefinition": self.args["TrainingJobDefinition"],
            "BestTrainingJob": ranked[0],
            "OverallBestTrainingJob": ranked[0],
            "TrainingJobSummaries": ranked[:MAX_SUMMARIES],
            "TrainingJobStatusCounters": {
                "Completed": counters["Completed"],
                "InProgress": 0,
                "RetryableError": 0,
                "NonRetryableError": counters["Failed"],
                "Stopped": 0,
            },
            "ObjectiveStatusCounters": {"Succeeded": objective["Succeeded"], "Pending": 0, "Failed": objective["Failed"]},
        }


def _failed() -> Any:
    optuna = _optuna()
    return optuna.trial.TrialState.FAIL


def _parents(args: dict[str, Any], run: StepRun) -> list[dict[str, Any]]:
    """The properties of the earlier tuning steps the warm start names (by tuning job name)."""
    wanted = {p.get("HyperParameterTuningJobName") for p in (args.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs", [])}
    return [props for props in run.ctx.steps.values() if isinstance(props, dict) and props.get("HyperParameterTuningJobName") in wanted]


@handler("Tuning")
def tuning(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    runtime = runnable(step)
    args = run.ctx.resolve(step["Arguments"])
    search = _Search(args, run, runtime)
    seeded = search.warm_start(_parents(args, run)) if args.get("WarmStartConfig") else 0
    if seeded:
        run.log(f"warm start: {seeded} training jobs of the parent tuning jobs seed the search")
    search.search()
    if run.interrupted and run.interrupted():
        raise StepFailed(f"tuning job {search.name} stopped after {len(search.jobs)} of {search.budget} training jobs")
    best = search.best()
    if best is None:
        reasons = sorted({j.get("FailureReason", "") for j in search.jobs})
        raise StepFailed(f"no training job of tuning job {search.name} reported {search.objective['MetricName']}: " + " | ".join(reasons))
    metric = best["FinalHyperParameterTuningJobObjectiveMetric"]
    run.log(f"best training job {best['TrainingJobName']}: {metric['MetricName']} {metric['Value']:g}")
    return search.properties()
