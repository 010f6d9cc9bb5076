"""The sagespec command line. Thin: each command parses options and calls one stage.

Exit codes: 0 success, 1 the input is invalid (or a diff/check found differences),
2 usage or I/O error, or an internal error. Heavy imports (sagemaker, tensorflow, rich) happen
inside the commands that need them, so `validate`, `schema` and `render` start fast.
"""

from __future__ import annotations

import json
import sys

import click

from sagespec import __version__

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Group(click.Group):
    """Turns unexpected exceptions into a one-line message and exit 2 (unless --traceback)."""

    def invoke(self, ctx: click.Context):
        from sagespec.diagnostics import UserError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except UserError as error:
            click.echo(error.format(), err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("sagespec: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            if type(exc).__module__.startswith(("botocore", "boto3", "s3transfer")):
                # An AWS failure no command mapped more precisely is still the user's to fix, not ours.
                click.echo(f"error[E6004]: AWS request failed: {exc}", err=True)
                click.echo("  hint: check credentials, region, endpoint and network", err=True)
                sys.exit(EXIT_INVALID)
            click.echo(f"sagespec: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("  rerun with `sagespec --traceback ...` and report it", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sagespec")
@click.option("--traceback", is_flag=True, help="Show Python tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Declarative YAML pipelines for Amazon SageMaker."""
    ctx.obj = {"traceback": traceback}


def _emit(diagnostics, output_format: str, color: str) -> None:
    from sagespec.diagnostics import formatters

    colored = output_format == "text" and formatters.color_wanted(color, sys.stdout)
    if output_format == "text":
        text = formatters.format_text(diagnostics, color=colored)
    else:
        text = formatters.FORMATTERS[output_format](diagnostics)
    if text:
        click.echo(text, color=colored)  # click strips ANSI codes off terminals unless told


format_option = click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text for people, json for tools, github for workflow annotations.",
)
color_option = click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
    help="Colour text output (auto honours NO_COLOR and whether stdout is a terminal).",
)
project_option = click.option(
    "--project-dir", type=click.Path(file_okay=False, exists=True), default=None,
    help="Project root for code paths and templates (default: nearest folder with pyproject.toml, .git or sagespec.toml).",
)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@format_option
@color_option
@project_option
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary line.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Processes for large batches (default: CPU count).")
def validate(paths, output_format, color, project_dir, quiet, jobs) -> None:
    """Validate pipeline specs (files, folders or globs) against the schema and semantic rules."""
    from pathlib import Path

    from sagespec.diagnostics import Diagnostic, Span, has_errors
    from sagespec.spec import validate_files
    from sagespec.spec.project import expand

    files, missing = expand(list(paths))
    root = Path(project_dir).resolve() if project_dir else None
    diagnostics = [Diagnostic("E0001", "no such file, folder or matching glob", Span(m)) for m in missing]
    found, invalid = validate_files(files, root, jobs)
    diagnostics += found
    _emit(diagnostics, output_format, color)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if output_format == "text" and not quiet:
        if not files and not missing:
            click.echo("no spec files found", err=True)
        elif errors:
            click.echo(f"{errors} error(s), {warnings} warning(s) in {invalid + len(missing)} of {len(files) + len(missing)} file(s)", err=True)
        else:
            click.echo(f"{len(files)} file(s) valid" + (f", {warnings} warning(s)" if warnings else ""), err=True)
    if any(d.code == "E0001" for d in diagnostics) or not files:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_INVALID if has_errors(diagnostics) else EXIT_OK)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@project_option
def render(spec, output_format, project_dir) -> None:
    """Print SPEC after applying its template (and validate the result)."""
    from pathlib import Path

    import yaml

    from sagespec.diagnostics.formatters import format_text
    from sagespec.spec import load_spec

    result = load_spec(spec, Path(project_dir).resolve() if project_dir else None)
    if result.diagnostics:
        click.echo(format_text(result.diagnostics), err=True)
    if result.document is None or not result.ok:
        sys.exit(EXIT_USAGE if any(d.code == "E0001" for d in result.diagnostics) else EXIT_INVALID)
    if output_format == "json":
        click.echo(json.dumps(result.document.data, indent=2))
    else:
        click.echo(yaml.safe_dump(result.document.data, sort_keys=False, width=100).rstrip())


def _load_valid(spec: str, project_dir: str | None):
    """Load and validate SPEC for a command that goes on with it; exit 1 (or 2) with diagnostics if invalid."""
    from pathlib import Path

    from sagespec.diagnostics.formatters import format_text
    from sagespec.spec import load_spec

    result = load_spec(spec, Path(project_dir).resolve() if project_dir else None)
    if result.diagnostics:
        click.echo(format_text(result.diagnostics), err=True)
    if not result.ok:
        sys.exit(EXIT_USAGE if any(d.code == "E0001" for d in result.diagnostics) else EXIT_INVALID)
    return result


workspace_option = click.option(
    "--workspace", type=click.Path(file_okay=False), default=None,
    help="Local state folder (default: .sagespec/ in the project, or $SAGESPEC_WORKSPACE).",
)


@cli.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the definition JSON here instead of stdout.")
@click.option("--no-cache", is_flag=True, help="Compile even if an identical compile is cached.")
@project_option
@workspace_option
def compile_command(spec, output, no_cache, project_dir, workspace) -> None:
    """Compile SPEC into the SageMaker pipeline definition JSON (offline, deterministic)."""
    from sagespec.compiler import compile_spec
    from sagespec.diagnostics import DiagnosticError
    from sagespec.diagnostics.formatters import format_text
    from sagespec.workspace import compile_cache_dir, workspace_dir

    result = _load_valid(spec, project_dir)
    cache = None if no_cache else compile_cache_dir(workspace_dir(result.project_root, workspace))
    try:
        compiled = compile_spec(result, cache)
    except DiagnosticError as error:
        click.echo(format_text(error.diagnostics), err=True)
        sys.exit(EXIT_INVALID)
    if output:
        from pathlib import Path

        Path(output).write_text(compiled.definition_json, encoding="utf-8")
        click.echo(f"wrote {output} ({len(compiled.definition['Steps'])} top-level steps, "
                   f"{len(compiled.uploads)} code uploads{', cached' if compiled.from_cache else ''})", err=True)
    else:
        click.echo(compiled.definition_json, nl=False)


def _compiled(spec: str, project_dir: str | None, workspace: str | None):
    """Load, validate and compile SPEC (cached), or exit with its diagnostics."""
    from sagespec.compiler import compile_spec
    from sagespec.diagnostics import DiagnosticError
    from sagespec.diagnostics.formatters import format_text
    from sagespec.workspace import compile_cache_dir, workspace_dir

    result = _load_valid(spec, project_dir)
    try:
        return compile_spec(result, compile_cache_dir(workspace_dir(result.project_root, workspace)))
    except DiagnosticError as error:
        click.echo(format_text(error.diagnostics), err=True)
        sys.exit(EXIT_INVALID)


aws_options = [
    click.option("--profile", default=None, help="AWS profile to call as (default: the standard credential chain)."),
    click.option("--region", default=None, help="AWS region (default: the spec's session.region, or the profile's)."),
    click.option("--assume-role", default=None, metavar="ARN", help="Assume this role first (e.g. in another account)."),
]


def with_aws_options(fn):
    for option in reversed(aws_options):
        fn = option(fn)
    return fn


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got '{item}'", param_hint="--param")
        params[name] = value
    return params


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["mermaid", "dot", "svg", "png"]), default="mermaid", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None, help="Write to this file instead of stdout.")
@project_option
def graph(spec, output_format, output, project_dir) -> None:
    """Draw SPEC's steps, dependencies and condition branches."""
    from sagespec import graph as drawing
    from sagespec.diagnostics import UserError

    data = _load_valid(spec, project_dir).document.data
    if output_format == "mermaid":
        content = drawing.to_mermaid(data).encode()
    else:
        content = drawing.to_dot(data).encode()
        if output_format in ("svg", "png"):
            try:
                content = drawing.render_image(content.decode(), output_format)
            except drawing.GraphvizMissing as missing:
                raise UserError("E0008", str(missing), exit_code=EXIT_USAGE) from None
    if output:
        from pathlib import Path

        Path(output).write_bytes(content)
    else:
        click.get_binary_stream("stdout").write(content)


@cli.command("diff")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--against", type=click.Path(dir_okay=False, exists=True), default=None, help="A saved definition JSON to compare with.")
@click.option("--target", type=click.Choice(["aws"]), default=None, help="Compare with the pipeline deployed in SageMaker.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@with_aws_options
@project_option
@workspace_option
def diff_command(spec, against, target, output_format, profile, region, assume_role, project_dir, workspace) -> None:
    """Compare SPEC's compiled definition with a saved one or the deployed one (exit 1 when they differ)."""
    import json as _json
    from pathlib import Path

    from sagespec import diff as differ

    if bool(against) == bool(target):
        raise click.UsageError("give exactly one of --against FILE or --target aws")
    compiled = _compiled(spec, project_dir, workspace)
    if against:
        try:
            old = _json.loads(Path(against).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise click.BadParameter(f"{against} is not JSON: {exc}", param_hint="--against") from None
        label = against
    else:
        from sagespec import aws
        from sagespec.aws.pipelines import deployed_definition

        session = aws.session(profile, region or compiled.region, assume_role)
        old = deployed_definition(session, compiled.name)
        label = f"deployed pipeline {compiled.name}"
    changes = differ.diff(old, compiled.definition)
    new_label = f"{spec} (compiled)"
    click.echo(differ.format_json(changes) if output_format == "json" else differ.format_text(changes, label, new_label), nl=False)
    sys.exit(EXIT_INVALID if changes else EXIT_OK)


def _default_target(target: str | None, profile: str | None) -> str:
    """Local unless an AWS target is configured (a profile, or credentials in the environment)."""
    import os

    if target:
        return target
    return "aws" if profile or any(os.environ.get(v) for v in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID")) else "local"


target_option = click.option("--target", type=click.Choice(["aws", "local"]), default=None,
                              help="Where the pipeline lives (default: aws when a profile or AWS credentials are configured, else local).")


def _local_pipelines(workspace):
    from pathlib import Path

    from sagespec.executor.runner import LocalPipelines
    from sagespec.spec.project import find_project_root
    from sagespec.workspace import workspace_dir

    return LocalPipelines(workspace_dir(find_project_root(Path.cwd()), workspace))


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--role", default=None, metavar="ARN", help="Pipeline execution role (default: the spec's session.role).")
@target_option
@with_aws_options
@project_option
@workspace_option
def upsert(spec, role, target, profile, region, assume_role, project_dir, workspace) -> None:
    """Upload SPEC's code and create or update the pipeline (SageMaker, or the local control plane)."""
    from sagespec import aws
    from sagespec.aws import pipelines
    from sagespec.diagnostics import UserError

    compiled = _compiled(spec, project_dir, workspace)
    if _default_target(target, profile) == "local":
        arn, version, new = _local_pipelines(workspace).upsert(compiled, role)
        click.echo(f"{'stored' if new else 'unchanged'} {arn} definition version {version} (local)")
        return
    if region and region != compiled.region:
        raise UserError("E6003", f"the spec targets {compiled.region} (session.region) but --region is {region}",
                        hint="image URIs and ARNs in the definition are regional; change session.region in the spec")
    session = aws.session(profile, compiled.region, assume_role)
    result = pipelines.upsert(session, compiled, role)
    for uri in result.uploaded:
        click.echo(f"uploaded {uri}")
    for uri in result.unchanged:
        click.echo(f"unchanged {uri}")
    click.echo(f"{result.action} pipeline {result.arn}")


@cli.command()
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a pipeline parameter (repeatable).")
@click.option("--wait", is_flag=True, help="Wait until the execution finishes; exit 1 unless it succeeded (local runs always wait).")
@click.option("--display-name", default=None, help="Execution display name.")
@click.option("--retry", default=None, metavar="EXECUTION",
              help="Local: run a failed execution again, reusing the steps that succeeded (after a fix and an upsert).")
@target_option
@workspace_option
@with_aws_options
def start(name, params, wait, display_name, retry, target, workspace, profile, region, assume_role) -> None:
    """Start an execution of the pipeline NAME (SageMaker, or the local control plane)."""
    from sagespec import aws
    from sagespec.aws import pipelines

    if _default_target(target, profile) == "local":
        _run_local(_local_pipelines(workspace), name, _parse_params(params), retry)
        return

    session = aws.session(profile, region, assume_role)
    arn = pipelines.start(session, name, _parse_params(params), display_name)
    click.echo(f"started {arn}")
    if wait:
        pipelines.wait(session, arn, on_status=lambda status, described: click.echo(
            f"  {described.get('LastModifiedTime', '')}  {status}"))


# ---- models: the model registry -----------------------------------------------------------

def registry_options(fn):
    options = [
        click.option("--as", "as_", default=None, metavar="WHO",
                     help="Caller: an account name from pipelines/accounts.yaml, an account ID or a role ARN "
                          "(local), or a profile (aws). Default: $SAGESPEC_AS."),
        click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True),
        click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True),
        click.option("--region", default=None, help="Region (default: the accounts file's)."),
        workspace_option,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _registry(as_, target, region, workspace):
    from pathlib import Path

    from sagespec.registry import open_registry
    from sagespec.spec.project import find_project_root

    return open_registry(target, as_, find_project_root(Path.cwd()), workspace, region)


def _show(output, value, table) -> None:
    from sagespec.registry import present

    if output == "json":
        click.echo(present.to_json(value))
    else:
        table()


@cli.group()
def models() -> None:
    """The model registry: groups, versions, approvals, lineage, policies (local or SageMaker)."""


@models.command("groups")
@registry_options
def models_groups(as_, target, output, region, workspace) -> None:
    """List the model package groups the caller can see."""
    from sagespec.registry import present

    found = _registry(as_, target, region, workspace).list_groups()
    _show(output, found, lambda: present.groups(found))


@models.command("create-group")
@click.argument("name")
@click.option("--description", default=None)
@registry_options
def models_create_group(name, description, as_, target, output, region, workspace) -> None:
    """Create a model package group owned by the caller's account."""
    from sagespec.registry import present

    group = _registry(as_, target, region, workspace).create_group(name, description)
    _show(output, group, lambda: present.groups([group]))


@models.command("register")
@click.argument("group")
@click.option("--model-data", required=True, metavar="S3_URI", help="model.tar.gz of the version.")
@click.option("--image", default=None, help="Inference image (default: the TensorFlow 2.13 CPU serving image of the region).")
@click.option("--content-type", "content_types", multiple=True, default=("text/csv", "application/json"), show_default=True)
@click.option("--response-type", "response_types", multiple=True, default=("application/json",), show_default=True)
@click.option("--metrics", "metrics_uri", default=None, metavar="S3_URI", help="evaluation.json (ModelMetrics.ModelQuality).")
@click.option("--status", default="PendingManualApproval", show_default=True)
@click.option("--description", default=None)
@click.option("--metadata", multiple=True, metavar="KEY=VALUE", help="CustomerMetadataProperties (repeatable).")
@registry_options
def models_register(group, model_data, image, content_types, response_types, metrics_uri, status, description, metadata,
                    as_, target, output, region, workspace) -> None:
    """Register a model version by hand (pipelines register through their register_model step)."""
    from sagespec.registry import LineageEntry

    registry = _registry(as_, target, region, workspace)
    region_name = getattr(registry, "region", None) or region or "us-east-1"
    spec = {"Containers": [{"Image": image or f"763104351884.dkr.ecr.{region_name}.amazonaws.com/tensorflow-inference:2.13-cpu",
                            "ModelDataUrl": model_data}],
            "SupportedContentTypes": list(content_types), "SupportedResponseMIMETypes": list(response_types)}
    metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}} if metrics_uri else None
    lineage = [LineageEntry("model", model_data)] + ([LineageEntry("metrics", metrics_uri)] if metrics_uri else [])
    created = registry.register(group, spec, status, metrics, _parse_params(metadata) or None, description, lineage)
    _show(output, created, lambda: click.echo(f"registered {created.arn} ({created.status})"))


@models.command("list")
@click.argument("group")
@click.option("--status", default=None, help="PendingManualApproval, Approved or Rejected.")
@click.option("--latest", is_flag=True, help="Only the newest matching version.")
@registry_options
def models_list(group, status, latest, as_, target, output, region, workspace) -> None:
    """List versions of GROUP (name, or ARN for a group in another account), newest first."""
    from sagespec.registry import present

    found = _registry(as_, target, region, workspace).list_packages(group, status, latest)
    _show(output, found, lambda: present.packages(found, group))


@models.command("describe")
@click.argument("arn")
@registry_options
def models_describe(arn, as_, target, output, region, workspace) -> None:
    """Show a model version and its approval history."""
    from sagespec.registry import present

    registry = _registry(as_, target, region, workspace)
    found, history = registry.describe(arn), registry.history(arn)
    _show(output, {"package": found, "history": history}, lambda: present.package(found, history))


def _set_status(arn, status, reason, as_, target, output, region, workspace) -> None:
    changed = _registry(as_, target, region, workspace).update_status(arn, status, reason)
    _show(output, changed, lambda: click.echo(f"{changed.arn}: {changed.status} ({reason})"))


@models.command("approve")
@click.argument("arn")
@click.option("--reason", required=True, help="ApprovalDescription: why (kept in the history).")
@registry_options
def models_approve(arn, reason, **kwargs) -> None:
    """Set a version's status to Approved."""
    _set_status(arn, "Approved", reason, **kwargs)


@models.command("reject")
@click.argument("arn")
@click.option("--reason", required=True, help="ApprovalDescription: why (kept in the history).")
@registry_options
def models_reject(arn, reason, **kwargs) -> None:
    """Set a version's status to Rejected."""
    _set_status(arn, "Rejected", reason, **kwargs)


@models.command("lineage")
@click.argument("arn")
@registry_options
def models_lineage(arn, as_, target, output, region, workspace) -> None:
    """Where a version came from: data -> execution -> model -> package (-> endpoints)."""
    from sagespec.registry import present

    registry = _registry(as_, target, region, workspace)
    found, entries = registry.describe(arn), registry.lineage(arn)
    _show(output, {"package": found, "lineage": entries}, lambda: present.lineage(found, entries))


@models.group("policy")
def models_policy() -> None:
    """The resource policy of a model package group."""


@models_policy.command("get")
@click.argument("group")
@registry_options
def models_policy_get(group, as_, target, output, region, workspace) -> None:
    """Print GROUP's resource policy (nothing and exit 1 when it has none)."""
    policy = _registry(as_, target, region, workspace).get_policy(group)
    if policy is None:
        click.echo(f"{group} has no resource policy", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(json.dumps(policy, indent=2))


@models_policy.command("put")
@click.argument("group")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@registry_options
def models_policy_put(group, file, as_, target, output, region, workspace) -> None:
    """Set GROUP's resource policy from a JSON FILE."""
    from pathlib import Path

    try:
        policy = json.loads(Path(file).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.BadParameter(f"{file} is not JSON: {exc}", param_hint="FILE") from None
    _registry(as_, target, region, workspace).put_policy(group, policy)
    click.echo(f"policy of {group} set from {file}")


# ---- accounts: the cross-account topology and its policies --------------------------------

accounts_file_option = click.option("--file", "accounts_file", type=click.Path(dir_okay=False, exists=True), default=None,
                                    help="Accounts file (default: pipelines/accounts.yaml of the project).")


def _topology(accounts_file):
    from pathlib import Path

    from sagespec.accounts import load_topology
    from sagespec.spec.project import find_project_root

    return load_topology(find_project_root(Path.cwd()), Path(accounts_file) if accounts_file else None, validate=True)


@cli.group()
def accounts() -> None:
    """Least-privilege policies for the cross-account workflow: render, check, apply."""


@accounts.command("render")
@click.option("--format", "output_format", type=click.Choice(["json", "cloudformation"]), default="json", show_default=True)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None,
              help="Write one file per policy (json) or per account (cloudformation) here.")
@accounts_file_option
def accounts_render(output_format, output_dir, accounts_file) -> None:
    """Render every account's policies from the topology."""
    from pathlib import Path

    from sagespec.crossaccount import cloudformation
    from sagespec.crossaccount.render import render as render_policies

    topology = _topology(accounts_file)
    if output_format == "cloudformation":
        files = {f"{name.replace('_', '-')}.template.json": t for name, t in cloudformation.templates(topology).items()}
    else:
        files = {}
        for account in render_policies(topology):
            folder = account.name.replace("_", "-")
            for policy in account.resource_policies:
                files[f"{folder}/{policy.kind}.{policy.resource.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}.json"] = policy.document
            for role in account.roles:
                files[f"{folder}/role.{role.name}.json"] = {"RoleName": role.name, "Arn": role.arn,
                                                            "AssumeRolePolicyDocument": role.trust, "InlinePolicies": role.inline}
    if not output_dir:
        click.echo(json.dumps(files, indent=2))
        return
    for relative, document in files.items():
        target = Path(output_dir) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {target}")


@accounts.command("check")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Show every cell, not only required ones and failures.")
@accounts_file_option
def accounts_check(output, show_all, accounts_file) -> None:
    """Evaluate the rendered policies for every step of the workflow (exit 1 on a missing or extra permission)."""
    from sagespec.crossaccount import check
    from sagespec.crossaccount.present import matrix_table

    cells = check.matrix(_topology(accounts_file))
    failures = [c for c in cells if not c.ok]
    if output == "json":
        click.echo(json.dumps([c.__dict__ | {"ok": c.ok} for c in cells], indent=2))
    else:
        matrix_table(cells, show_all)
    sys.exit(EXIT_INVALID if failures else EXIT_OK)


@accounts.command("apply")
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
@click.option("--target", type=click.Choice(["aws", "local"]), default="aws", show_default=True)
@click.option("--assume-role-name", default=None, metavar="NAME",
              help="Reach every account by assuming this role in it (e.g. OrganizationAccountAccessRole) instead of profiles.")
@workspace_option
@accounts_file_option
def accounts_apply(dry_run, target, assume_role_name, workspace, accounts_file) -> None:
    """Apply the rendered policies in every account (profiles or assume_role from the accounts file)."""
    from pathlib import Path

    from sagespec.crossaccount import apply as applying
    from sagespec.spec.project import find_project_root
    from sagespec.workspace import workspace_dir

    topology = _topology(accounts_file)
    if target == "local":
        changes = applying.apply_local(topology, workspace_dir(find_project_root(Path.cwd()), workspace)) if not dry_run else []
    else:
        changes = applying.plan(topology, applying.default_session_for(topology, assume_role_name))
    for change in changes:
        marker = {"unchanged": "=", "create": "+", "update": "~", "delete": "-"}[change.action]
        click.echo(f"{marker} [{change.account.replace('_', '-')}] {change.what}: {change.action}")
        if change.diff and target == "aws":
            click.echo("\n".join("    " + line for line in change.diff.splitlines()))
    pending = [c for c in changes if c.changes]
    if target == "aws" and not dry_run:
        applying.execute(pending)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(pending)} of {len(changes)} {verb}" if changes else "nothing to do")


# ---- promotion: deployment account -> workload accounts ------------------------------------

def promotion_options(fn):
    options = [
        click.option("--as", "as_", default=None, metavar="WHO",
                     help="Who records stages and deployments in the registry. Local: a topology name (default deployment); "
                          "aws: a profile (default: the standard credential chain)."),
        click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True),
        click.option("--region", default=None, help="Region (default: the accounts file's)."),
        click.option("--assume-role-name", default=None, metavar="NAME",
                     help="aws: reach workload accounts by assuming this role in them (default: their profile or assume_role)."),
        workspace_option,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _backends(target, as_, region, workspace, assume_role_name):
    from sagespec.promotion.backends import open_backends

    # Locally promotion acts as the topology's deployment account; in AWS as the credentials at hand
    # (a CI role in the deployment account), unless --as names a profile.
    return open_backends(target, as_ or ("deployment" if target == "local" else None), workspace, region, assume_role_name)


def _gate(plan, yes: bool) -> None:
    """The manual gate before prod: an interactive confirmation, or --yes from a pipeline that gated already."""
    from sagespec.diagnostics import UserError

    if plan.stage != "prod" or yes:
        return
    if not sys.stdin.isatty():
        raise UserError("E7007", "changing prod needs a confirmation and there is no terminal to ask on",
                        hint="pass --yes where an approval step already gated the change (CI)", exit_code=EXIT_USAGE)
    click.confirm(f"{plan.action} version {plan.package.version} in prod?", abort=True)


def _carry_out(promoter, plan, yes: bool) -> None:
    from sagespec.promotion import present

    present.plan(plan)
    if plan.unchanged:
        click.echo(f"{plan.endpoint} already serves {present.traffic(plan.target)}; nothing to do")
        return
    _gate(plan, yes)
    deployment = promoter.execute(plan)
    described = promoter.hosting.describe_endpoint(plan.endpoint) or {}
    where = f" at {described['Url']}" if described.get("Url") else ""
    click.echo(f"{plan.stage}: {plan.endpoint} is {described.get('EndpointStatus', 'InService')}{where}, "
               f"serving {present.traffic(deployment.variants)}")
    click.echo(f"recorded {deployment.action} of version {deployment.version} in {plan.stage}"
               + (f" (was version {deployment.previous_version})" if deployment.previous_version is not None else ""))


@cli.command()
@click.argument("group")
@click.option("--stage", type=click.Choice(["qa", "prod"]), default=None, help="Where to deploy (default: qa).")
@click.option("--version", type=click.IntRange(min=1), default=None, help="Version to promote (default: the latest Approved).")
@click.option("--canary-weight", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None, metavar="W",
              help="prod: add the version as a second variant taking W of the traffic (0.1 = 10%).")
@click.option("--finalize", is_flag=True, help="prod: move all traffic to the canary.")
@click.option("--force", is_flag=True, help="prod: promote a version that has not passed QA (needs --reason).")
@click.option("--reason", default=None, help="Why (kept with the deployment; required with --force).")
@click.option("--yes", is_flag=True, help="Do not ask before changing prod (for CI behind its own approval step).")
@click.option("--on-approval", is_flag=True, help="Promote the newest version approved since the last --on-approval run (local registry events).")
@click.option("--follow", is_flag=True, help="With --on-approval: keep waiting for approvals (Ctrl-C stops).")
@click.option("--endpoint-name", default=None, help="Endpoint name (default: GROUP-STAGE).")
@click.option("--instance-type", default="ml.m5.large", show_default=True, help="Instance type of new production variants.")
@promotion_options
def promote(group, stage, version, canary_weight, finalize, force, reason, yes, on_approval, follow, endpoint_name,
            instance_type, as_, target, region, assume_role_name, workspace) -> None:
    """Deploy an Approved version of GROUP to the QA or prod account's endpoint (the deployment account's job)."""
    from sagespec.promotion import Promoter

    stage = stage or "qa"
    if finalize and (version or canary_weight):
        raise click.UsageError("--finalize takes no --version or --canary-weight: it moves traffic to the running canary")
    if force and not reason:
        raise click.UsageError("--force needs --reason TEXT: overriding the QA gate is recorded with why")
    if follow and not on_approval:
        raise click.UsageError("--follow goes with --on-approval")
    backends = _backends(target, as_, region, workspace, assume_role_name)
    account = backends.topology.find(stage)
    promoter = Promoter(backends.registry, backends.hosting_for(account) if account else None, backends.topology, group, stage,
                        endpoint_name, instance_type)
    if on_approval:
        _promote_on_approval(backends, promoter, yes, follow)
    elif finalize:
        _carry_out(promoter, promoter.plan_finalize(), yes)
    else:
        _carry_out(promoter, promoter.plan_promote(version, canary_weight, force, reason), yes)


def _promote_on_approval(backends, promoter, yes: bool, follow: bool) -> None:
    import time

    from sagespec.diagnostics import UserError
    from sagespec.promotion.trigger import next_approval

    if backends.target != "local":
        raise UserError("E7005", "--on-approval reads the local registry's events; in AWS an EventBridge rule starts promotion",
                        hint="`sagespec cicd render` writes the rule, the CodeBuild buildspec and a GitHub Actions workflow",
                        exit_code=EXIT_USAGE)
    subscriber = f"promote:{promoter.group_name}:{promoter.stage}"
    while True:
        found = next_approval(backends.registry, subscriber, promoter.group_name)
        if found.version is not None:
            click.echo(f"version {found.version} of {promoter.group_name} was approved ({found.seen} new event(s))")
            _carry_out(promoter, promoter.plan_promote(found.version), yes)
        elif found.seen:
            click.echo(f"{found.seen} new event(s), no version still Approved among them")
        found.acknowledge()
        if not follow:
            if found.version is None and not found.seen:
                click.echo(f"no new approvals of {promoter.group_name}")
            return
        time.sleep(2)


@cli.command()
@click.argument("group")
@click.option("--stage", type=click.Choice(["qa", "prod"]), default="prod", show_default=True)
@click.option("--reason", default=None, help="Why (kept with the deployment).")
@click.option("--yes", is_flag=True, help="Do not ask before changing prod.")
@click.option("--endpoint-name", default=None, help="Endpoint name (default: GROUP-STAGE).")
@promotion_options
def rollback(group, stage, reason, yes, endpoint_name, as_, target, region, assume_role_name, workspace) -> None:
    """Redeploy the version that was in STAGE before the current one (or drop a running canary)."""
    from sagespec.promotion import Promoter

    backends = _backends(target, as_, region, workspace, assume_role_name)
    account = backends.topology.find(stage)
    promoter = Promoter(backends.registry, backends.hosting_for(account) if account else None, backends.topology, group, stage,
                        endpoint_name)
    _carry_out(promoter, promoter.plan_rollback(reason), yes)


@cli.group()
def deployments() -> None:
    """The deployment history of a model package group."""


@deployments.command("list")
@click.argument("group")
@click.option("--stage", type=click.Choice(["qa", "prod"]), default=None)
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@promotion_options
def deployments_list(group, stage, output, as_, target, region, assume_role_name, workspace) -> None:
    """Every deployment, canary, finalize, rollback and QA test of GROUP, oldest first."""
    from sagespec.promotion import present

    backends = _backends(target, as_, region, workspace, assume_role_name)
    found = backends.registry.deployments(backends.topology.group_arn(group), stage)
    _show(output, found, lambda: present.deployments(found, group))


@cli.group()
def endpoints() -> None:
    """Endpoints in the workload accounts: list, test, delete."""


account_option = click.option("--account", default=None, metavar="NAME",
                              help="Workload account hosting the endpoint (qa, prod; default: the one that has it, locally).")


@endpoints.command("list")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@promotion_options
def endpoints_list(output, as_, target, region, assume_role_name, workspace) -> None:
    """Endpoints of every workload account, with their variants' traffic (and local URLs)."""
    from sagespec.promotion import present

    backends = _backends(target, as_, region, workspace, assume_role_name)
    found = [(account, e) for account in backends.topology.workloads for e in backends.hosting_for(account).list_endpoints()]
    _show(output, [e for _, e in found], lambda: present.endpoints(found))


@endpoints.command("delete")
@click.argument("name")
@account_option
@promotion_options
def endpoints_delete(name, account, as_, target, region, assume_role_name, workspace) -> None:
    """Delete endpoint NAME (locally: stop its server process). Its models and configs stay."""
    backends = _backends(target, as_, region, workspace, assume_role_name)
    found, hosting = backends.find_endpoint(name, account)
    hosting.delete_endpoint(name)
    click.echo(f"deleted endpoint {name} in {found.name} ({found.id})")


@endpoints.command("test")
@click.argument("name")
@account_option
@click.option("--data", default=None, metavar="URI|FILE",
              help="test.csv (header, target first, then features). Default locally: the test split of the version's execution.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="Largest relative difference between the endpoint's MSE and the registered one.")
@click.option("--group", default=None, help="Model package group (default: the endpoint name without its -STAGE suffix).")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@promotion_options
def endpoints_test(name, account, data, tolerance, group, output, as_, target, region, assume_role_name, workspace) -> None:
    """Send the test split through endpoint NAME; in QA a pass marks the version QA-passed (exit 1 on failure)."""
    from sagespec.diagnostics import UserError
    from sagespec.promotion import present, qa

    backends = _backends(target, as_, region, workspace, assume_role_name)
    found, hosting = backends.find_endpoint(name, account)
    group = group or name.removesuffix(f"-{found.name}")
    group_arn = backends.topology.group_arn(group)
    described = hosting.describe_endpoint(name)
    if described is None:
        raise UserError("E6005", f"endpoint {name} does not exist in {found.name} ({found.id})")
    data_uri = data
    if not data_uri:
        from sagespec.hosting import variant_version
        from sagespec.registry import package_arn

        version = variant_version(described["ProductionVariants"][0]["VariantName"])
        package = backends.registry.describe(package_arn(group_arn, version))
        data_uri = backends.test_data_for(package)
        if data_uri is None:
            raise UserError("E7006", f"cannot find the test split of version {version}", hint="pass --data URI|FILE", exit_code=EXIT_USAGE)
    results = qa.test_endpoint(hosting, backends.registry, backends.read, name, data_uri, group_arn, tolerance)
    if found.name == "qa":
        qa.record(backends.registry, results, group_arn, found.id, name, data_uri)
    _show(output, results, lambda: present.qa_results(results, name))
    for r in results:
        state = "passed QA" if r.passed else "FAILED QA"
        if found.name == "qa":
            click.echo(f"version {r.version} {state} (recorded on {r.package_arn})")
    if not all(r.passed for r in results):
        sys.exit(EXIT_INVALID)


@cli.group()
def cicd() -> None:
    """CI/CD of the deployment account: EventBridge trigger, CodePipeline/CodeBuild, GitHub Actions."""


@cicd.command("render")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None, help="Write the files here (default: print them).")
@accounts_file_option
def cicd_render(output_dir, accounts_file) -> None:
    """Render the promotion trigger, pipeline, workload deployer role, buildspec and workflow from the topology."""
    from pathlib import Path

    from sagespec import cicd as rendering

    files = rendering.render(_topology(accounts_file))
    for name, content in files.items():
        text = json.dumps(content, indent=2) + "\n" if isinstance(content, dict) else content
        if output_dir:
            target = Path(output_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            click.echo(f"wrote {target}")
        else:
            click.echo(f"--- {name}\n{text}")


def _run_local(local, name: str, overrides: dict, retry: str | None = None) -> None:
    from sagespec.diagnostics import UserError
    from sagespec.executor.progress import LineProgress, LiveProgress

    progress = LiveProgress(f"pipeline {name} (local)") if sys.stdout.isatty() else LineProgress()
    click.echo(f"running pipeline {name} locally")
    with progress:
        result = local.start(name, overrides, progress, retry)
    click.echo(f"execution {result['arn']}: {result['status']}")
    for step in result["steps"]:
        if step["status"] == "Failed" and step["log_path"]:
            click.echo(f"--- log of {step['name']} ({step['log_path']}), last lines:")
            lines = open(step["log_path"], encoding="utf-8", errors="replace").read().splitlines()
            click.echo("\n".join("    " + line for line in lines[-15:]))
        if step["type"] == "Condition":
            symbols = {"LessThanOrEqualTo": "<=", "LessThan": "<", "GreaterThan": ">", "GreaterThanOrEqualTo": ">=", "Equals": "=="}
            compared = "; ".join(f"{e['Left']} {e['LeftValue']:.4g} {symbols.get(e['Type'], e['Type'])} {e['RightValue']}"
                                 if isinstance(e["LeftValue"], (int, float)) else f"{e['Left']} {e['LeftValue']}"
                                 for e in step["properties"].get("Evaluated", []))
            click.echo(f"condition {step['name']}: {str(step['properties'].get('Outcome')).lower()}" + (f" ({compared})" if compared else ""))
        if step["type"] == "RegisterModel" and step["status"] == "Succeeded":
            props = step["properties"]
            click.echo(f"registered {props['ModelPackageArn']} ({props['ModelApprovalStatus']})")
    for message in result["outbox"]:
        click.echo(f"notification for {message['function_arn']}: {json.dumps(message['payload'])}")
    if result["status"] != "Succeeded":
        raise UserError("E6009", f"execution ended {result['status']}: {result['failure_reason']}")


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a pipeline parameter (repeatable).")
@project_option
@workspace_option
def run(spec, params, project_dir, workspace) -> None:
    """Compile SPEC, store it in the local control plane and run it here (upsert + start + wait)."""
    from pathlib import Path

    from sagespec.accounts import load_topology
    from sagespec.crossaccount.apply import apply_local

    compiled = _compiled(spec, project_dir, workspace)
    local = _local_pipelines(workspace)
    arn, version, new = local.upsert(compiled)
    click.echo(f"{'stored' if new else 'unchanged'} {arn} definition version {version}")
    from sagespec.spec.project import find_project_root

    root = Path(project_dir).resolve() if project_dir else find_project_root(spec)
    topology = load_topology(root)
    if topology.accounts:
        changed = [c for c in apply_local(topology, local.workspace) if c.changes]
        if changed:
            click.echo(f"applied {len(changed)} policies from {topology.source.name} to the local control plane")
    overrides = _parse_params(params)
    for declared in compiled.definition.get("Parameters", []):
        value = overrides.get(declared["Name"], declared.get("DefaultValue"))
        bundled = root / "pipelines" / "data" / str(value).rsplit("/", 1)[-1]
        if isinstance(value, str) and value.startswith("s3://") and bundled.is_file() and local.seed(value, bundled):
            click.echo(f"seeded {value} from {bundled.relative_to(root)}")
    _run_local(local, compiled.name, overrides)


@cli.group()
def executions() -> None:
    """Executions on the local control plane."""


@executions.command("list")
@click.argument("pipeline", required=False)
@workspace_option
def executions_list(pipeline, workspace) -> None:
    """List executions, newest first."""
    for e in _local_pipelines(workspace).list_executions(pipeline):
        click.echo(f"{e['started_at'][:19]}  {e['status']:<10}  {e['arn']}" + (f"  ({e['failure_reason']})" if e["failure_reason"] else ""))


@executions.command("describe")
@click.argument("execution")
@workspace_option
def executions_describe(execution, workspace) -> None:
    """Show an execution (ARN or ID) with its steps, as JSON."""
    click.echo(json.dumps(_local_pipelines(workspace).describe_execution(execution), indent=2, default=str))


@executions.command("logs")
@click.argument("execution")
@click.argument("step")
@workspace_option
def executions_logs(execution, step, workspace) -> None:
    """Print the log of STEP in EXECUTION."""
    from sagespec.diagnostics import UserError

    found = next((s for s in _local_pipelines(workspace).describe_execution(execution)["steps"] if s["name"] == step), None)
    if found is None or not found["log_path"]:
        raise UserError("E6005", f"no log for step {step} in execution {execution}")
    click.echo(open(found["log_path"], encoding="utf-8", errors="replace").read().rstrip())


@cli.command("schema")
@click.option("--name", type=click.Choice(["pipeline", "template", "accounts"]), default="pipeline", show_default=True)
def schema_command(name) -> None:
    """Print the JSON Schema that specs (or templates) are validated against."""
    from sagespec.spec.schema import schema_path

    click.echo(schema_path(f"{name}.schema.json").read_text(encoding="utf-8").rstrip())


@cli.command()
def rules() -> None:
    """List the rule IDs that diagnostics use."""
    from sagespec.diagnostics.catalog import RULES

    for code, title in RULES.items():
        click.echo(f"{code}  {title}")


def main() -> None:
    cli(prog_name="sagespec")


if __name__ == "__main__":
    main()
