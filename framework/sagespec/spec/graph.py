"""Draw a spec's steps, dependencies and condition branches (Mermaid, DOT, and SVG/PNG via Graphviz).

Drawn from the validated spec, not the compiled definition: the names are the ones the user
wrote, and no SDK import is needed.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from sagespec.diagnostics import UserError
from sagespec.spec.dependencies import edges

_MERMAID_SHAPES = {
    "processing": ('["', '"]'),
    "training": ('(["', '"])'),
    "tuning": ('{{"', '"}}'),
    "transform": ('[/"', '"/]'),
    "condition": ('{"', '"}'),
    "register_model": ('[("', '")]'),
    "create_model": ('[["', '"]]'),
    "fail": ('[/"', '"\\]'),
    "lambda": ('>"', '"]'),
    "callback": ('>"', '"]'),
    "emr": ('[["', '"]]'),
    "quality_check": ('{{"', '"}}'),
    "clarify_check": ('{{"', '"}}'),
}
_DOT_SHAPES = {
    "processing": "box",
    "training": "box3d",
    "tuning": "box3d",
    "transform": "parallelogram",
    "condition": "diamond",
    "register_model": "cylinder",
    "create_model": "component",
    "fail": "octagon",
    "lambda": "cds",
    "callback": "cds",
    "emr": "box3d",
    "quality_check": "hexagon",
    "clarify_check": "hexagon",
}


class GraphvizMissing(RuntimeError):
    pass


def _label(step: dict[str, Any]) -> str:
    return f"{step['name']}<br/><small>{step['kind'].replace('_', ' ')}</small>"


def _edge_list(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(from, to, why): `from` happens before `to`."""
    return [(e.needs, e.step, e.why) for e in edges(data["steps"])]


def to_mermaid(data: dict[str, Any]) -> str:
    ids = {s["name"]: f"s{i}" for i, s in enumerate(data["steps"])}
    lines = ["flowchart TD"]
    for step in data["steps"]:
        left, right = _MERMAID_SHAPES.get(step["kind"], ('["', '"]'))
        lines.append(f"    {ids[step['name']]}{left}{_label(step)}{right}")
    for before, after, why in _edge_list(data):
        arrow = {
            "if": "-->|if|",
            "else": "-->|else|",
            "depends_on": "-.->|depends on|",
            "property_file": "-->|property file|",
            "model": "-->|model|",
            "warm_start": "-.->|warm start|",
        }.get(why, "-->")
        lines.append(f"    {ids[before]} {arrow} {ids[after]}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(data: dict[str, Any]) -> str:
    lines = [
        f"digraph {_quote(data['name'])} {{",
        "    rankdir=TB;",
        '    node [fontname="Helvetica", style="rounded,filled", fillcolor="#f5f7fa"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for step in data["steps"]:
        label = f"{step['name']}\\n{step['kind'].replace('_', ' ')}"
        lines.append(f'    {_quote(step["name"])} [label="{label}", shape={_DOT_SHAPES.get(step["kind"], "box")}];')
    for before, after, why in _edge_list(data):
        attrs = {
            "if": '[label="if", color="darkgreen"]',
            "else": '[label="else", color="firebrick"]',
            "depends_on": '[style=dashed, label="depends on"]',
            "property_file": '[label="property file"]',
            "model": '[label="model"]',
            "warm_start": '[style=dashed, label="warm start"]',
        }.get(why, "")
        lines.append(f"    {_quote(before)} -> {_quote(after)} {attrs};".replace(" ;", ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_image(dot_source: str, image_format: str) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            f"--output {image_format} needs Graphviz's `dot` on PATH, which was not found; install Graphviz "
            "(apt-get install graphviz, brew install graphviz) or use --output mermaid|dot"
        )
    done = subprocess.run([dot, f"-T{image_format}"], input=dot_source.encode(), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise GraphvizMissing(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def draw(data: dict[str, Any], output: str) -> bytes:
    """The drawing in `output` format: mermaid, dot, or svg/png through Graphviz."""
    if output == "mermaid":
        return to_mermaid(data).encode()
    content = to_dot(data)
    if output not in ("svg", "png"):
        return content.encode()
    try:
        return render_image(content, output)
    except GraphvizMissing as missing:
        raise UserError("E0008", str(missing), exit_code=2) from None
