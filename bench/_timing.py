"""What the bench scripts share: fresh-process timings measured side by side, their medians and
spread, and the met / MISSED verdict of a ratio against its target.

Commands compared in one run are interleaved (A, B, A, B, ... with the order flipped every round),
so a burst of load from another program on the machine falls on both and the ratio stays fair;
each ratio's spread is that of the per-round ratios (A_i / B_i).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def bytecode_as_installed() -> None:
    """Byte-compile sagespec as `pip install` does for an installed package (and as the libraries
    it is compared with already are). An editable checkout otherwise compiles its modules on each
    import when PYTHONDONTWRITEBYTECODE is set (this machine and its CI set it): ~30 ms of a
    registry command's start-up that a user's installation never pays. The timed processes may
    still read the .pyc files; only writing them is what the variable prevents."""
    import compileall

    compileall.compile_dir(str(ROOT / "framework" / "sagespec"), quiet=1)


class BenchFailure(SystemExit):
    """The measured path is broken: the script exits non-zero with what failed."""


def run(argv: list[str], env: dict | None = None, cwd: Path = ROOT, expect: int = 0) -> tuple[float, subprocess.CompletedProcess]:
    """(seconds, the finished process) of one fresh process; a wrong exit code ends the bench."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != expect:
        shown = " ".join(argv[:4]) + (" ..." if len(argv) > 4 else "")
        raise BenchFailure(f"{shown} exited {done.returncode} (expected {expect}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return elapsed, done


@dataclass
class Samples:
    values: list[float]
    output: str = ""  # the last run's stdout

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def show(self, scale: float = 1.0, digits: int = 3) -> str:
        """`median (min-max)`, e.g. `0.412 (0.398-0.450)`; a single sample shows alone."""
        if len(self.values) == 1:
            return f"{self.median * scale:.{digits}f}"
        return f"{self.median * scale:.{digits}f} ({self.low * scale:.{digits}f}-{self.high * scale:.{digits}f})"


def interleaved(
    commands: dict[str, list[str] | Callable[[int], list[str]]], repeat: int, env: dict | None = None, cwd: Path = ROOT
) -> dict[str, Samples]:
    """Each command run `repeat` times as a fresh process, the commands taking turns (the order
    reversed every other round). A command may be a function of the round giving its argv (a
    command that changes state, such as an approval, needs a new argument each time)."""
    found = {label: Samples([]) for label in commands}
    labels = list(commands)
    for round_ in range(repeat):
        for label in labels if round_ % 2 == 0 else reversed(labels):
            command = commands[label]
            elapsed, done = run(command(round_) if callable(command) else command, env, cwd)
            found[label].values.append(elapsed)
            found[label].output = done.stdout
    return found


def ratio(ours: Samples, baseline: Samples) -> Samples:
    """Per-round ratios of two interleaved measurements (their median is the ratio reported)."""
    return Samples([a / b for a, b in zip(ours.values, baseline.values)])


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def load_note() -> str:
    """The machine's load while the bench ran: other programs' work shows up as spread."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A Markdown table; `align` has one character per column: l(eft) or r(ight) (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(f"{c:<{w}}" if a == "l" else f"{c:>{w}}" for c, w, a in zip(cells, widths, align)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line([str(c) for c in row]) for row in rows)])


# -- python -X importtime -------------------------------------------------------------------


def import_tree(stderr: str) -> list[dict]:
    """The imports of one `python -X importtime` run, each {name, self, cumulative (s), parent}.

    The output lists an import after the imports it caused, one indentation level deeper; the
    first import below a module's level that follows them is their importer."""
    nodes, pending = [], {}  # pending: level -> nodes waiting for their importer
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        level = (len(name) - len(name.lstrip())) // 2
        node = {"name": name.strip(), "self": int(own) / 1e6, "cumulative": int(cumulative) / 1e6, "parent": None}
        for child in pending.pop(level + 1, []):
            child["parent"] = node["name"]
        pending.setdefault(level, []).append(node)
        nodes.append(node)
    return nodes


def group_of(name: str) -> str:
    top = name.split(".")[0]
    if top == "sagespec":
        parts = name.split(".")
        return ".".join(parts[:3]) if parts[1:2] in (["backends"], ["spec"], ["cli"]) else ".".join(parts[:2])
    if top in sys.stdlib_module_names or top.startswith("_") or top in ("encodings", "site"):
        return "(standard library)"
    return top


def importtime(argv: list[str], env: dict, runs: int) -> dict[str, dict]:
    """Per module: median self and cumulative seconds over `runs` runs, and its importer."""
    per_run = []
    for _ in range(runs):
        _, done = run([sys.executable, "-X", "importtime", *argv], env)
        per_run.append({n["name"]: n for n in import_tree(done.stderr)})
    merged = {}
    for name, node in per_run[0].items():
        seen = [r[name] for r in per_run if name in r]
        merged[name] = {
            "self": statistics.median(n["self"] for n in seen),
            "cumulative": statistics.median(n["cumulative"] for n in seen),
            "parent": node["parent"],
        }
    return merged


def largest_imports(modules: dict[str, dict], top: int) -> list[list[str]]:
    """Rows (module, cumulative ms, self ms, first importer) of the `top` largest cumulative imports under sagespec and third-party."""
    ours = {n: m for n, m in modules.items() if group_of(n) != "(standard library)"}
    largest = sorted(ours.items(), key=lambda item: -item[1]["cumulative"])[:top]
    return [[n, f"{m['cumulative'] * 1000:.1f}", f"{m['self'] * 1000:.1f}", m["parent"] or "(top level)"] for n, m in largest]
