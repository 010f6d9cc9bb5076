"""A Lambda step names its function as the SDK's `sagemaker.lambda_helper.Lambda(...)` does: an
existing function by ARN, or a function to create from a script (function_name,
execution_role_arn, script, handler). The SDK raises ValueError for the other combinations when
the pipeline is built; here they are located errors.

Lambda's handler is `<file>.<function>`: the file of the deployment package (the script, zipped
alone by the SDK) without `.py`, and a function it defines ("Define Lambda function handler in
Python", AWS Lambda Developer Guide).
"""

from __future__ import annotations

import ast
from pathlib import Path

from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.files import inside


@rule
def lambda_functions(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        if step.get("kind") != "lambda":
            continue
        where = ("steps", i)
        if "function_arn" not in step and "function_name" not in step:
            ctx.report(
                "E4022",
                f"Lambda step '{step['name']}' names no function",
                where,
                hint="give function_arn (an existing function), or function_name, execution_role_arn, script and handler (one to create)",
            )
            continue
        if "function_name" in step:
            missing = [k for k in ("execution_role_arn", "script", "handler") if k not in step]
            if missing:
                ctx.report(
                    "E4022",
                    f"Lambda step '{step['name']}' creates function {step['function_name']} but has no {', '.join(missing)}",
                    where + ("function_name",),
                    hint="a function to create needs the role it runs as, its script and its handler, as the SDK's Lambda(...) does",
                )
                continue
        elif ("script" in step) != ("handler" in step):
            given, lacking = ("script", "handler") if "script" in step else ("handler", "script")
            ctx.report("E4022", f"Lambda step '{step['name']}' has a {given} but no {lacking}", where + (given,))
            continue
        elif "execution_role_arn" in step:
            ctx.report(
                "E4022",
                f"Lambda step '{step['name']}': execution_role_arn is set when a function is created (function_name); "
                f"the existing function {step['function_arn']} keeps its role",
                where + ("execution_role_arn",),
            )
        if isinstance(step.get("script"), str) and isinstance(step.get("handler"), str):
            _handler_in_script(ctx, step, i)


def _handler_in_script(ctx: CheckContext, step: dict[str, object], i: int) -> None:
    script, handler = str(step["script"]), str(step["handler"])
    module, function = handler.rsplit(".", 1)
    stem = Path(script).stem
    if Path(script).suffix != ".py" or module != stem:
        ctx.report(
            "E4022",
            f"handler {handler} names module '{module}', but the function's package holds only {Path(script).name}",
            ("steps", i, "handler"),
            hint=f"Lambda imports the handler's module from the package: use {stem}.{function}",
        )
        return
    root = ctx.project_root.resolve()
    path = (root / script).resolve()
    if not inside(path, root) or not path.is_file():
        return  # the code path rule reports it
    try:
        tree = ast.parse(path.read_bytes(), filename=script)
    except (SyntaxError, ValueError) as exc:
        ctx.report("E4022", f"script {script} is not valid Python: {exc}", ("steps", i, "script"))
        return
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if function not in defined:
        ctx.report(
            "E4022",
            f"script {script} defines no function {function} (handler {handler})",
            ("steps", i, "handler"),
            hint=f"its functions: {', '.join(sorted(defined)) or 'none'}",
        )
