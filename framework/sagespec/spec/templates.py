"""Templates: a spec names a template in pipelines/templates/ and passes params.

The template file is YAML first (so structure never goes through text templating and every
value keeps its line), then Jinja2 renders string values one by one in a sandbox with
StrictUndefined. A value that is exactly `{{ expression }}` keeps the expression's type, so a
template can pass numbers, lists and mappings through. Errors point at the template file and
line, with a note naming the spec that used it. Keys written next to `template:` in the spec
override what the template produced: mappings merge by key, steps merge by name.
"""

from __future__ import annotations

import functools
import re
import signal
import threading
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from sagespec.diagnostics import Diagnostic, DiagnosticError, Span
from sagespec.diagnostics.suggest import did_you_mean
from sagespec.spec import schema
from sagespec.spec.project import display_path
from sagespec.spec.source import Document, SourceMap
from sagespec.spec.source import Path as JsonPath
from sagespec.spec.topology import load_topology
from sagespec.spec.yaml_loader import load_file

if TYPE_CHECKING:
    from jinja2.runtime import Context
    from jinja2.sandbox import SandboxedEnvironment

TEMPLATE_SCHEMA = "template.schema.json"
TEMPLATE_DIR = Path("pipelines") / "templates"
_MARKERS = ("{{", "{%", "{#")
_WHOLE_EXPRESSION = re.compile(r"\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%).)*)\}\}", re.DOTALL)
_PARAM_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "list": (list,),
    "mapping": (dict,),
}


def available_templates(project_root: Path) -> list[str]:
    folder = project_root / TEMPLATE_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def template_file(project_root: Path, name: str) -> Path:
    return project_root / TEMPLATE_DIR / f"{name}.yaml"


# Bounds on what one template value may cost (Jinja's sandbox intercepts `*` and `**`, and its
# `range` is replaced by a smaller one): a spec is a page of YAML, not a program.
MAX_VALUE_CHARS = 64 * 1024  # characters one rendered value (or one repetition) may have
MAX_RANGE = 10_000  # items a `range()` may yield
MAX_EXPONENT_BITS = 64  # `a ** b` may produce an integer of at most this many bits
RENDER_SECONDS = 2.0  # wall time for one value, where a timer can be set (the main thread)


class TemplateLimit(Exception):
    pass


@functools.cache
def _environment() -> SandboxedEnvironment:
    """One sandbox per process: it holds no state between renders (values come in as the render's
    context), and its compiled expressions are reused by every spec of a `validate` call."""
    # Imported here: specs without templates never pay for Jinja2.
    from jinja2 import StrictUndefined  # start-up: Jinja2 only for a spec that names a template
    from jinja2.sandbox import SandboxedEnvironment  # (the same)

    class BoundedEnvironment(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(left, (int, float)) and isinstance(right, (int, float)):
                magnitude = abs(left) if isinstance(left, int) else 0
                if isinstance(right, int) and right > 0 and magnitude > 1 and magnitude.bit_length() * right > MAX_EXPONENT_BITS:
                    raise TemplateLimit(f"{left} ** {right} is larger than templates compute (at most {MAX_EXPONENT_BITS} bits)")
            if operator == "*":
                size = next((len(v) for v in (left, right) if isinstance(v, (str, list, tuple))), None)
                times = next((v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)), None)
                if size is not None and times is not None and size * times > MAX_VALUE_CHARS:
                    raise TemplateLimit(f"repeating {size} items {times} times exceeds {MAX_VALUE_CHARS:,}")
            return super().call_binop(context, operator, left, right)

    env = BoundedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

    def bounded_range(*args: int) -> range:
        found = range(*args)
        if len(found) > MAX_RANGE:
            raise TemplateLimit(f"range of {len(found):,} items; templates iterate over at most {MAX_RANGE:,}")
        return found

    env.globals["range"] = bounded_range
    return env


# Compiling an expression is most of rendering one (Jinja parses it and generates Python source);
# a team's specs share their templates, so the same few hundred expressions recur in every file.
@functools.lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    return _environment().compile_expression(source, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    return _environment().from_string(source)


class _time_limit:
    """SIGALRM after RENDER_SECONDS, when this is the main thread of a POSIX process (elsewhere the
    size bounds alone apply)."""

    def __enter__(self) -> _time_limit:
        self.armed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        if self.armed:

            def expired(signum: int, frame: FrameType | None) -> None:
                raise TemplateLimit(f"rendering took longer than {RENDER_SECONDS:g} s")

            self.previous = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, RENDER_SECONDS)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _data_problem(value: object, depth: int = 0) -> str | None:
    """Why `value` is not plain data (a string, number, boolean, null, list or mapping of them)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return None
    if depth > 50:
        return "it nests more than 50 levels"
    if isinstance(value, (list, tuple)):
        return next((p for p in (_data_problem(v, depth + 1) for v in value) if p), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "a mapping key is not a string"
        return next((p for p in (_data_problem(v, depth + 1) for v in value.values()) if p), None)
    return f"it is a {type(value).__name__}, not data"


def load_template(path: Path, root: Path | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Load and check a template file on its own (also what `validate` does for files in templates/).

    The result is kept for the file as it is on disk (its size and modification time): every spec
    of a `validate` call that uses the template reads it once. Nothing downstream changes a
    loaded document (rendering builds new values; source maps are copied, not edited)."""
    root = root if root is not None else path.parent.parent.parent
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None:
        return _load_template(path, root, display_path(path))
    document, found = _load_template_as_on_disk(path, root, display_path(path), stat.st_mtime_ns, stat.st_size)
    return document, list(found)


def _load_template(path: Path, root: Path, shown: str) -> tuple[Document | None, list[Diagnostic]]:
    document, found = load_file(path, shown, root)
    if document is None:
        return None, found
    found += schema.validate(document, TEMPLATE_SCHEMA)
    return document, found


@functools.lru_cache(maxsize=64)
def _load_template_as_on_disk(
    path: Path, root: Path, shown: str, mtime_ns: int, size: int
) -> tuple[Document | None, tuple[Diagnostic, ...]]:
    document, found = _load_template(path, root, shown)
    return document, tuple(found)


class _Renderer:
    def __init__(self, context: dict[str, Any], via: str | None):
        from jinja2 import Undefined, exceptions  # start-up: Jinja2 only for a spec that names a template

        self.errors = exceptions
        self.undefined = Undefined
        self.context = context
        self.via = via
        self.diagnostics: list[Diagnostic] = []

    def render(self, value: Any, path: JsonPath, source: SourceMap) -> Any:
        if isinstance(value, dict):
            return {k: self.render(v, path + (k,), source) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, path + (i,), source) for i, v in enumerate(value)]
        if isinstance(value, str) and any(m in value for m in _MARKERS):
            return self.render_string(value, path, source)
        return value

    def render_string(self, text: str, path: JsonPath, source: SourceMap) -> Any:
        span = replace(source.span(path), via=self.via) if self.via else source.span(path)
        try:
            whole = _WHOLE_EXPRESSION.fullmatch(text.strip())
            with _time_limit():
                if whole:
                    result = _expression(whole.group("expr"))(**self.context)
                    if isinstance(result, self.undefined):
                        result._fail_with_undefined_error()  # raises UndefinedError naming the variable
                else:
                    result = _template(text).render(**self.context)
            problem = _data_problem(result)
            if problem:
                self.report(
                    "E1010",
                    f"template expression {text.strip()[:80]!r} yields no data value: {problem}",
                    span,
                    path,
                    hint="an expression must give a string, number, boolean, list or mapping",
                )
                return text
            if isinstance(result, str) and len(result) > MAX_VALUE_CHARS:
                raise TemplateLimit(f"the rendered value has {len(result):,} characters; at most {MAX_VALUE_CHARS:,}")
            return result
        except TemplateLimit as exc:
            self.report(
                "E1011", f"template rendering refused: {exc}", span, path, hint="a template fills in values; it does not compute large ones"
            )
        except self.errors.TemplateSyntaxError as exc:
            line = span.line + max((exc.lineno or 1) - 1, 0)
            col = span.col if line == span.line else 0
            self.report("E1002", f"template syntax error: {exc.message}", replace(span, line=line, col=col), path)
        except self.errors.UndefinedError as exc:
            name = re.match(r"'([^']+)' is undefined", exc.message or "")
            hint = None
            if name:
                hint = did_you_mean(name.group(1), self.context) or f"template params: {', '.join(sorted(self.context))}"
            self.report("E1003", f"undefined in template: {exc.message}", span, path, hint)
        except self.errors.SecurityError as exc:
            self.report("E1007", f"the template sandbox refused: {exc}", span, path)
        except Exception as exc:  # noqa: BLE001 - any failure of a user's expression is a finding
            self.report("E1009", f"template expression failed: {type(exc).__name__}: {exc}", span, path)
        return text

    def report(self, code: str, message: str, span: Span, path: JsonPath, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, path, hint))


def _params(use: dict[str, Any], header: dict[str, Any], spec: Document, project_root: Path) -> tuple[dict[str, Any], list[Diagnostic]]:
    declared = header.get("params") or {}
    given = use.get("params") or {}
    found: list[Diagnostic] = []
    context: dict[str, Any] = {}
    if not isinstance(given, dict):
        return context, found  # the pipeline schema reports it
    # Param values may use the accounts topology: "{{ accounts.data_science.role_arn }}".
    renderer = None
    if any(isinstance(v, str) and any(m in v for m in _MARKERS) for v in given.values()):
        try:
            accounts = load_topology(project_root).template_view()
        except DiagnosticError as error:
            # The accounts file's own findings, located there, and why this spec needed it.
            used = Diagnostic(
                "E1003", f"the params use `accounts`, but {error.summary}", spec.source.span(("template", "params")), ("template", "params")
            )
            return context, [*error.diagnostics, used]
        renderer = _Renderer({"accounts": accounts}, None)
        given = {k: renderer.render(v, ("template", "params", k), spec.source) for k, v in given.items()}
        found += renderer.diagnostics
        if renderer.diagnostics:
            return context, found
    for name, value in given.items():
        path = ("template", "params", name)
        if name not in declared:
            hint = did_you_mean(name, declared) or f"the template declares: {', '.join(declared) or 'nothing'}"
            found.append(
                Diagnostic("E1004", f"template '{use.get('name')}' has no parameter '{name}'", spec.source.span(path, key=True), path, hint)
            )
            continue
        kind = declared[name].get("type")
        expected = _PARAM_TYPES.get(kind, (object,))
        if (isinstance(value, bool) and kind != "boolean") or not isinstance(value, expected):
            found.append(
                Diagnostic(
                    "E1006",
                    f"template parameter '{name}' must be {'an' if str(kind)[:1] in 'aeiouAEIOU' else 'a'} {kind}, not {type(value).__name__} {value!r}",
                    spec.source.span(path),
                    path,
                    declared[name].get("description"),
                )
            )
            continue
        context[name] = value
    for name, decl in declared.items():
        if name in given:
            continue
        if "default" in decl:
            context[name] = decl["default"]
        else:
            found.append(
                Diagnostic(
                    "E1005",
                    f"template '{use.get('name')}' needs parameter '{name}'",
                    spec.source.span(("template", "params"), key=True),
                    ("template", "params"),
                    decl.get("description"),
                )
            )
    return context, found


def render(spec: Document, project_root: Path) -> tuple[Document | None, list[Diagnostic]]:
    """Apply the spec's template. Returns the rendered document (None when it cannot be built)."""
    data = spec.data if isinstance(spec.data, dict) else {}
    use = data.get("template")
    if not isinstance(use, dict) or not isinstance(use.get("name"), str):
        return spec, []  # the pipeline schema reports a malformed template key
    name = use["name"]
    path = template_file(project_root, name)
    use_span = spec.source.span(("template",), key=True)
    if not path.is_file():
        known = available_templates(project_root)
        hint = did_you_mean(name, known) or f"templates in {project_root / TEMPLATE_DIR}: {', '.join(known) or 'none'}"
        return None, [
            Diagnostic(
                "E1001",
                f"template '{name}' not found ({display_path(path)})",
                spec.source.span(("template", "name")),
                ("template", "name"),
                hint,
            )
        ]
    via = f"from template {display_path(path)}, used by {spec.file}:{use_span.line + 1}:{use_span.col + 1}"
    template, found = load_template(path, project_root)
    found = [replace(d, span=replace(d.span, via=via)) for d in found]
    if template is None or any(d.severity == "error" for d in found):
        return None, found
    header = template.data
    assert isinstance(header, dict)  # the template schema passed: a mapping of `template` and `spec`
    if isinstance(header["spec"], dict) and "template" in header["spec"]:
        nested = ("spec", "template")
        return None, found + [
            Diagnostic(
                "E1008",
                "a template's spec cannot use another template",
                replace(template.source.span(nested, key=True), via=via),
                nested,
                hint="copy what you need into this template, or pass values as params",
            )
        ]
    context, param_errors = _params(use, header["template"], spec, project_root)
    if param_errors:
        return None, found + param_errors
    renderer = _Renderer(context, via)
    spec_source = template.source.subtree(("spec",))
    rendered = renderer.render(header["spec"], (), spec_source)
    found += renderer.diagnostics
    if renderer.diagnostics:
        return None, found
    out = SourceMap(spec.file)
    out.values[()] = spec.source.span(())
    overrides = {k: v for k, v in data.items() if k != "template"}
    base = _Side(rendered, spec_source, via)
    over = _Side(overrides, spec.source, None)
    merged = _merge(base, over, (), out)
    return Document(merged, out), found


class _Side:
    """One side of a merge: data plus the source map its paths are looked up in."""

    def __init__(self, data: Any, source: SourceMap, via: str | None):
        self.data, self.source, self.via = data, source, via

    def copy(self, from_path: JsonPath, to_path: JsonPath, out: SourceMap) -> None:
        sub = self.source.subtree(from_path)
        if from_path in self.source.values:
            sub.values[()] = self.source.values[from_path]
        out.graft(to_path, sub, self.via)
        if from_path in self.source.keys:
            key_span = self.source.keys[from_path]
            out.keys[to_path] = replace(key_span, via=self.via) if self.via else key_span


def _merge(
    base: _Side, over: _Side, path: JsonPath, out: SourceMap, base_path: JsonPath | None = None, over_path: JsonPath | None = None
) -> Any:
    base_path = path if base_path is None else base_path
    over_path = path if over_path is None else over_path
    b, o = base.data, over.data
    if isinstance(b, dict) and isinstance(o, dict):
        result: dict[str, Any] = {}
        for key in list(b) + [k for k in o if k not in b]:
            if key in b and key in o:
                result[key] = _merge(
                    _Side(b[key], base.source, base.via),
                    _Side(o[key], over.source, over.via),
                    path + (key,),
                    out,
                    base_path + (key,),
                    over_path + (key,),
                )
            elif key in b:
                result[key] = b[key]
                base.copy(base_path + (key,), path + (key,), out)
            else:
                result[key] = o[key]
                over.copy(over_path + (key,), path + (key,), out)
        out.values.setdefault(path, over.source.span(over_path) if path else out.values[()])
        return result
    if path == ("steps",) and isinstance(b, list) and isinstance(o, list):
        return _merge_steps(base, over, out, base_path, over_path)
    over.copy(over_path, path, out)
    return o


def _merge_steps(base: _Side, over: _Side, out: SourceMap, base_path: JsonPath, over_path: JsonPath) -> list[Any]:
    """Steps merge by name: an override step with a template step's name deep-merges into it."""
    result: list[Any] = []
    by_name = {s.get("name"): j for j, s in enumerate(over.data) if isinstance(s, dict)}
    used: set[int] = set()
    for i, step in enumerate(base.data):
        j = by_name.get(step.get("name")) if isinstance(step, dict) else None
        target = ("steps", len(result))
        if j is None:
            result.append(step)
            base.copy(base_path + (i,), target, out)
        else:
            used.add(j)
            result.append(
                _merge(
                    _Side(step, base.source, base.via),
                    _Side(over.data[j], over.source, over.via),
                    target,
                    out,
                    base_path + (i,),
                    over_path + (j,),
                )
            )
    for j, step in enumerate(over.data):
        if j not in used:
            over.copy(over_path + (j,), ("steps", len(result)), out)
            result.append(step)
    out.values.setdefault(("steps",), over.source.span(over_path))
    return result
