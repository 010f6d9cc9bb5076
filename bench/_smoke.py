"""Runs bench scripts in their smoke mode (`make bench-smoke`): each `python bench/NAME.py --smoke`
with this interpreter, `--jobs` at a time, one line per script (ok / FAILED, seconds), the tail
of a failed script's output, and a non-zero exit when any failed. Full logs in bench/.out/.

    python bench/_smoke.py [--jobs N] NAME...
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGS = HERE / ".out"


def smoke(name: str) -> tuple[str, bool, float]:
    started = time.perf_counter()
    with open(LOGS / f"smoke-{name}.log", "w") as log:
        done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--smoke"], cwd=HERE.parent, stdout=log, stderr=subprocess.STDOUT)
    return name, done.returncode == 0, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="scripts at a time (default 1)")
    parser.add_argument("names", nargs="+", help="bench scripts by name (validate, registry, ...)")
    args = parser.parse_args()
    missing = [n for n in args.names if not (HERE / f"{n}.py").is_file()]
    if missing:
        raise SystemExit(f"no bench script {', '.join(missing)}")
    LOGS.mkdir(exist_ok=True)
    started, failed = time.perf_counter(), []
    with ThreadPoolExecutor(args.jobs) as pool:
        for name, ok, seconds in pool.map(smoke, args.names):
            print(f"{'ok' if ok else 'FAILED':<6} bench/{name}.py --smoke ({seconds:.1f} s)", flush=True)
            if not ok:
                failed.append(name)
                print("".join((LOGS / f"smoke-{name}.log").read_text().splitlines(keepends=True)[-30:]), flush=True)
    print(
        f"bench smoke: {len(args.names) - len(failed)} passed, {len(failed)} failed in {time.perf_counter() - started:.1f} s (--jobs {args.jobs})"
    )
    if failed:
        raise SystemExit(f"bench smoke failed: {', '.join(failed)} (logs in {LOGS})")


if __name__ == "__main__":
    main()
