"""Benchmark: the local registry with 10,000 versions in one group, as a call and as a command.

1. The registry call itself, in one process (median of many calls): `list --status Approved
   --latest` and `approve` (issue #5's target: each under 50 ms).
2. The whole command as a fresh process, as a user runs it: `sagespec models list GROUP --status
   Approved --latest --output json` and `sagespec models approve ARN --reason ... --output json`
   (local target), beside a bare click program that imports nothing else (a group with one
   command printing `[]`, run as `python bare_click.py cmd arg`), interleaved. Target (issue
   "Speed, in bench/"): each <= 1.3 x the bare click program.
3. What the command's start-up costs: its phases timed in fresh processes (imports, the accounts
   file, the database, the call, the output), and `python -X importtime` of the real command: the
   largest imports under sagespec and third-party, what sagespec modules pull in, and the import
   time by package.

    python bench/registry.py [--versions N] [--calls N] [--runs N] [--against REV] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import (
    BIN,
    ROOT,
    Samples,
    bytecode_as_installed,
    group_of,
    importtime,
    interleaved,
    largest_imports,
    load_note,
    ratio,
    run,
    table,
    verdict,
)

sys.path.insert(0, str(ROOT / "framework"))

from sagespec.aws.partitions import partition  # noqa: E402
from sagespec.backends.local.database import connect  # noqa: E402
from sagespec.backends.local.registry import LocalRegistry  # noqa: E402
from sagespec.iam import Principal  # noqa: E402

REGION = "us-east-1"  # the accounts file's
OWNER = Principal.role("222222222222", "sagespec-shared-services-admin", "aws")
GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
INFERENCE = {
    "Containers": [
        {
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu",
            "ModelDataUrl": "s3://sagespec-shared-artifacts-222222222222/california-housing/m/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["application/json"],
}
TARGET_CALL_MS, TARGET_RATIO = 50.0, 1.3

BARE_CLICK = '''import click


@click.group()
def cli():
    """A bare click program: the floor of any click CLI."""


@cli.command()
@click.argument("arg")
def cmd(arg):
    click.echo("[]")


if __name__ == "__main__":
    cli()
'''

# The command's path, step by step, in a fresh process (what `sagespec models list` does, in its
# order; the accounts file is read from the workspace's JSON copy of it, PyYAML only when the file changed).
PHASES = """
import json, sys, time
T = time.perf_counter
marks = []
def mark(label, started):
    marks.append((label, T() - started))
t = T(); import click; mark("import click", t)
t = T(); import sagespec.cli; mark("import sagespec.cli (the group: options, context, topology, iam, diagnostics)", t)
t = T(); import sagespec.cli.models; mark("import sagespec.cli.models (workflows.registry, backends.factory: every local backend)", t)
from sagespec.cli.models import _ctx
from sagespec.cli.console import to_json
from sagespec.backends.local.database import connect
from sagespec.backends.local.registry import LocalRegistry
t = T(); ctx = _ctx("local", None, None); mark("build the context", t)
t = T(); ctx.topology(); mark("read pipelines/accounts.yaml (the workspace's JSON of it; PyYAML only after a change)", t)
mark("(PyYAML imported: the JSON cache missed)" if "yaml" in sys.modules else "(PyYAML not imported)", T())
t = T(); caller, region, aws = ctx.caller(None), ctx.region, ctx.partition; mark("caller, region, partition", t)
t = T(); conn = connect(ctx.workspace); mark("open the control-plane database (pragmas, migration check)", t)
t = T(); found = LocalRegistry(conn, caller, region, aws).list_packages(sys.argv[1], "Approved", latest=True); mark("the registry call (IAM decision, query)", t)
t = T(); text = to_json(found); mark("JSON of the result", t)
assert len(found) == 1
print(json.dumps(marks))
"""


# A lower bound for today's design: click, and only the modules the call itself needs (the
# accounts file to resolve the caller, the database, LocalRegistry), no command framework.
LEAN = """
import json, os, sys
from dataclasses import asdict
from pathlib import Path
import click
from sagespec.aws.partitions import partition
from sagespec.backends.local.database import connect
from sagespec.backends.local.registry import LocalRegistry
from sagespec.spec.topology import load_topology, resolve_caller
topology = load_topology(Path.cwd())
aws = partition(topology.partition or "aws")
registry = LocalRegistry(connect(Path(os.environ["SAGESPEC_WORKSPACE"])), resolve_caller(None, topology, aws.name), topology.region, aws)
click.echo(json.dumps([asdict(p) for p in registry.list_packages(sys.argv[1], "Approved", latest=True)], indent=2, default=str))
"""


def populate(workspace: Path, versions: int) -> list[str]:
    """Register `versions` versions through the registry API; approve 30%, reject 20%.

    Setup only: the connection skips fsync (synchronous=OFF) so filling 10,000 versions takes
    seconds; the measured calls below use the normal connection (synchronous=FULL).
    """
    conn = connect(workspace)
    conn.execute("PRAGMA synchronous = OFF")
    registry = LocalRegistry(conn, OWNER, REGION, partition("aws"))
    registry.create_group("california-housing")
    arns = [registry.register("california-housing", INFERENCE).arn for _ in range(versions)]
    rng = random.Random(0)
    for arn in rng.sample(arns, versions * 3 // 10):
        registry.update_status(arn, "Approved", "bench")
    for arn in rng.sample([a for a in arns if registry.describe(a).status != "Approved"], versions // 5):
        registry.update_status(arn, "Rejected", "bench")
    conn.close()
    return arns


def at_revision(revision: str, folder: Path) -> str:
    """Code that runs `sagespec ARGS` as the framework (and pipelines/) were at `revision`."""
    import io
    import subprocess
    import tarfile

    done = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "framework", "pipelines", "pyproject.toml"], capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"git archive {revision}: {done.stderr.decode()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(folder)
    return (
        f"import os, sys; sys.path.insert(0, {str(folder / 'framework')!r}); os.chdir({str(folder)!r}); "
        "from sagespec.cli import main; sys.argv = ['sagespec'] + sys.argv[1:]; main()"
    )


def median_ms(fn, calls: int) -> float:
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def phases(env: dict, runs: int) -> list[tuple[str, Samples]]:
    found: dict[str, list[float]] = {}
    for _ in range(runs):
        _, done = run([sys.executable, "-c", PHASES, GROUP], env)
        for label, seconds in json.loads(done.stdout):
            found.setdefault(label, []).append(seconds)
    return [(label, Samples(values)) for label, values in found.items()]


# -- python -X importtime -------------------------------------------------------------------


def importtime_tables(modules: dict[str, dict], top: int) -> list[str]:
    out = [
        f"the {top} largest cumulative imports under sagespec and third-party (ms, median of the runs):",
        "(-X importtime does not report modules loaded by importlib.import_module, as click's lazy loading loads",
        "sagespec.cli.models: what that module imports shows at the top level; 'imported by' is the first importer)",
        "",
        table(["module", "cumulative", "self", "imported by"], largest_imports(modules, top), "lrrl"),
    ]
    # What sagespec pulls in: each import of another package made directly by a sagespec module.
    pulled = [(n, m) for n, m in modules.items() if not n.startswith("sagespec") and m["parent"] and m["parent"].startswith("sagespec")]
    pulled.sort(key=lambda item: -item[1]["cumulative"])
    out += [
        "",
        f"the {top} largest imports of other packages made by sagespec modules (standard library included):",
        "",
        table(
            ["module", "cumulative ms", "imported by"],
            [[n, f"{m['cumulative'] * 1000:.1f}", m["parent"]] for n, m in pulled[:top]],
            "lrl",
        ),
    ]
    by_group: dict[str, float] = {}
    for name, m in modules.items():
        by_group[group_of(name)] = by_group.get(group_of(name), 0.0) + m["self"]
    total = sum(by_group.values())
    shown = sorted(by_group.items(), key=lambda item: -item[1])
    out += [
        "",
        f"import time by package (sum of self times; {total * 1000:.0f} ms in all under -X importtime, which inflates it):",
        "",
        table(["package", "ms", "share"], [[g, f"{s * 1000:.1f}", f"{100 * s / total:.0f}%"] for g, s in shown[:top]]),
    ]
    return out


def unneeded_table(modules: dict[str, dict], needed: dict[str, dict], top: int) -> list[str]:
    """Import time the command spends on modules the lower-bound process does without (the call
    needs none of them), by package."""
    by_group: dict[str, list] = {}
    for name, m in modules.items():
        if name not in needed:
            entry = by_group.setdefault(group_of(name), [0.0, 0])
            entry[0] += m["self"]
            entry[1] += 1
    total_all = sum(m["self"] for m in modules.values())
    total = sum(v[0] for v in by_group.values())
    shown = sorted(by_group.items(), key=lambda item: -item[1][0])[:top]
    return [
        f"imported by `models list` but not by the lower-bound process (which makes the same call): {total * 1000:.0f} ms,"
        f" {100 * total / total_all:.0f}% of the command's import time, in {sum(v[1] for v in by_group.values())} modules:",
        "",
        table(["package", "modules", "ms (self)"], [[g, str(n), f"{t * 1000:.1f}"] for g, (t, n) in shown]),
    ]


def main() -> None:
    bytecode_as_installed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200, help="in-process calls per operation")
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per command")
    parser.add_argument("--top", type=int, default=15, help="rows of the import tables")
    parser.add_argument(
        "--against", metavar="REV", help="also time `models list` as the framework was at git revision REV (git archive, same venv)"
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long check of the same path: 200 versions, 20 calls, 2 runs")
    args = parser.parse_args()
    if args.smoke:
        args.versions, args.calls, args.runs = 200, 20, 2
    profile_runs = max(1, min(5, args.runs // 3))
    with tempfile.TemporaryDirectory(prefix="sagespec-bench-registry-") as scratch:
        workspace = Path(scratch) / "ws"
        started = time.perf_counter()
        arns = populate(workspace, args.versions)
        setup = time.perf_counter() - started
        registry = LocalRegistry(connect(workspace), Principal.role("222222222222", "bench", "aws"), REGION, partition("aws"))
        pending = [a for a in arns if registry.describe(a).status == "PendingManualApproval"]
        latest = registry.list_packages(GROUP, "Approved", latest=True)
        assert len(latest) == 1 and latest[0].status == "Approved"
        list_ms = median_ms(lambda i: registry.list_packages(GROUP, "Approved", latest=True), args.calls)
        approve_ms = median_ms(lambda i: registry.update_status(pending[i], "Approved", "bench"), args.calls)

        bare = Path(scratch) / "bare_click.py"
        bare.write_text(BARE_CLICK)
        env = {**os.environ, "SAGESPEC_WORKSPACE": str(workspace), "SAGESPEC_AS": "shared-services"}
        models = [str(BIN / "sagespec"), "models"]
        listing = models + ["list", GROUP, "--status", "Approved", "--latest", "--output", "json"]
        to_approve = iter(pending[args.calls :])
        commands = {
            "list": listing,
            "approve": lambda _: models + ["approve", next(to_approve), "--reason", "bench", "--output", "json"],
            "bare": [sys.executable, str(bare), "cmd", "arg"],
            "lean": [sys.executable, "-c", LEAN, GROUP],
            "click": [sys.executable, "-c", "import click"],
            "python": [sys.executable, "-c", "pass"],
        }
        if args.against:
            commands["against"] = [sys.executable, "-c", at_revision(args.against, Path(scratch) / "rev"), *listing[1:]]
        found = interleaved(commands, args.runs, env)
        if json.loads(found["list"].output) != json.loads(found["lean"].output) or found["bare"].output.strip() != "[]":
            raise SystemExit("a command printed something unexpected")
        steps = phases(env, args.runs)
        modules = importtime([str(BIN / "sagespec"), *listing[1:]], env, profile_runs)
        needed = importtime(["-c", LEAN, GROUP], env, profile_runs)

    list_ratio, approve_ratio = ratio(found["list"], found["bare"]), ratio(found["approve"], found["bare"])
    lean_ratio = ratio(found["lean"], found["bare"])
    print(f"local registry, {args.versions} versions in one group (setup {setup:.1f} s); {load_note()}")
    print()
    print(
        table(
            ["operation", "registry call ms (median)", "whole command ms (median, min-max)", "x bare click (min-max)"],
            [
                ["models list --status Approved --latest", f"{list_ms:.2f}", found["list"].show(1000, 1), list_ratio.show(digits=2)],
                ["models approve ARN --reason ...", f"{approve_ms:.2f}", found["approve"].show(1000, 1), approve_ratio.show(digits=2)],
                ["bare click program (baseline)", "", found["bare"].show(1000, 1), "1.00"],
                ["(lower bound: click + only the list call's modules)", "", found["lean"].show(1000, 1), lean_ratio.show(digits=2)],
                *(
                    [
                        [
                            f"(models list as at {args.against})",
                            "",
                            found["against"].show(1000, 1),
                            ratio(found["against"], found["bare"]).show(digits=2),
                        ]
                    ]
                    if args.against
                    else []
                ),
                ["(python -c 'import click')", "", found["click"].show(1000, 1), ""],
                ["(python -c pass)", "", found["python"].show(1000, 1), ""],
            ],
        )
    )
    print(f"({args.calls} in-process calls per operation; {args.runs} fresh processes per command, interleaved)")
    print()
    bare_ms = found["bare"].median * 1000
    for label, key in (("models list", "list"), ("models approve", "approve")):
        value = ratio(found[key], found["bare"]).median
        print(
            f"target {label} <= {TARGET_RATIO:.2f} x bare click: {value:.2f} {verdict(value <= TARGET_RATIO)} "
            f"({found[key].median * 1000:.0f} ms against a budget of {TARGET_RATIO * bare_ms:.0f} ms)"
        )
    worst = max(list_ms, approve_ms)
    print(
        f"target registry calls under {TARGET_CALL_MS:.0f} ms (median): {list_ms:.2f} / {approve_ms:.2f} ms {verdict(worst < TARGET_CALL_MS)}"
    )
    print()
    print(f"where `models list` spends its time after the interpreter starts (fresh processes, median of {args.runs}, ms):")
    print()
    total = sum(s.median for _, s in steps)
    rows = [["interpreter start-up (python -c pass)", found["python"].show(1000, 1)]]
    rows += [[label, samples.show(1000, 1)] for label, samples in steps]
    rows += [["sum of the medians above", f"{(total + found['python'].median) * 1000:.1f}"]]
    print(table(["phase", "ms"], rows))
    print()
    for line in importtime_tables(modules, args.top):
        print(line)
    print()
    for line in unneeded_table(modules, needed, args.top):
        print(line)


if __name__ == "__main__":
    main()
