"""Writes, or checks, every generated part of README.md and the pages under docs/.

A page's generated parts are cog blocks (https://nedbatchelder.com/code/cog/): Python between
`<!-- [[[cog` and `]]] -->` whose output stands between `]]] -->` and `<!-- [[[end]]] -->`. The
Python runs the commands a reader would (session.py) or renders a reference from the code
(reference.py, errors.py); the output is committed, so the pages read as they are on GitHub and the
site builds without running anything.

    python docs/_gen/cogdocs.py            # write every page's generated parts anew (make docs-update)
    python docs/_gen/cogdocs.py --check    # exit 1, with a diff, if one differs (make test, tests/test_docs.py)
    python docs/_gen/cogdocs.py [--check] PAGE...

Pages run in parallel (--jobs), each in a process of its own: a page's blocks share one namespace
and run in order, so a page is a story (its sessions persist from block to block).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BEGIN = "[[[" + "cog"  # split: this file is not a page


def pages() -> list[Path]:
    """README.md and every page under docs/ that has a cog block."""
    candidates = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [p for p in candidates if BEGIN in p.read_text(encoding="utf-8")]


def regenerate(page: Path) -> str:
    """The page's text with every cog block's output made anew."""
    import cogapp

    sys.path.insert(0, str(HERE))
    import session

    generator = cogapp.Cog()
    generator.cogmodule.path.append(str(HERE))
    try:
        return generator.process_string(page.read_text(encoding="utf-8"), fname=str(page))
    finally:
        session.close_all()


def difference(page: Path) -> str:
    """A unified diff of the page as committed against the page as generated now ('' when equal)."""
    old = page.read_text(encoding="utf-8")
    new = regenerate(page)
    name = str(page.relative_to(ROOT))
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"{name} (committed)", f"{name} (generated now)"))


def update(page: Path) -> bool:
    """Write the page's generated parts anew; whether it changed."""
    old = page.read_text(encoding="utf-8")
    new = regenerate(page)
    if new != old:
        page.write_text(new, encoding="utf-8")
    return new != old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 with a diff if a page differs")
    parser.add_argument("--jobs", type=int, default=2, help="pages at a time (default 2)")
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: README.md and every page under docs/ with a cog block)")
    args = parser.parse_args()
    chosen = [p.resolve() for p in args.pages] or pages()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(difference if args.check else update, chosen))
    if args.check:
        stale = [(p, d) for p, d in zip(chosen, results) if d]
        for _, diff in stale:
            print(diff)
        print(f"{len(chosen) - len(stale)} of {len(chosen)} pages are as generated")
        if stale:
            names = " ".join(str(p.relative_to(ROOT)) for p, _ in stale)
            raise SystemExit(f"generated parts differ: {names} (run `make docs-update` and read the diff)")
    else:
        for page, changed in zip(chosen, results):
            print(f"{'updated' if changed else 'unchanged'} {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
