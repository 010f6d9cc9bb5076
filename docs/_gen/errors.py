"""The error-code reference (docs/reference/errors.md): every code of the diagnostics catalogue,
by stage, with an example that is run and its fix.

The examples are data (CASES, RUNS, NOT_RUN below); `stage()` runs a stage's examples in one
Session and writes its section. A `Case` is a file that `sagespec validate` reports: the page's
base spec (churn.yaml), the classifier template or the spec that uses it, or the accounts file,
with a few replacements. A stage's cases are validated in one run (`sagespec validate e2/`) and
their fixes in another (`sagespec validate e2-fixed/`); each code shows the lines of that run
about its file. A `Run` is a command line that fails (a registry or promotion command, a compile),
shown with what it printed. A code that cannot be produced on this machine has a `NotRun` that
says why and what a user sees and does.

A code of the catalogue without an entry here, or an example whose output lacks its code, stops
the docs build; tests/test_docs_errors.py checks the page has every code's section.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from session import SAGESPEC, Session, out

from sagespec.diagnostics.catalog import RULES, TITLES_BY_STAGE

Edits = tuple[tuple[str, str], ...]

# -- the files the examples change ---------------------------------------------------------------

# A first draft of a churn pipeline, with six mistakes (the opening example of the page).
DRAFT = """\
name: churn
description: Customer churn (scikit-learn), gated on test accuracy, registered cross-account.
session:
  region: us-east-1
  role: arn:aws:iam::111111111111:role/sagespec-data-science-execution
  default_bucket: sagespec-ds-experiments-111111111111
parameters:
  InputData: {type: String, default: s3://sagespec-ds-experiments-111111111111/churn/churn.csv}
  MaxIter: {type: Integer, default: 200}
  Threshold: {type: Float, default: "0.8"}
steps:
  - name: Prep
    kind: processing
    processor: {framework: sklearn, framework_version: "1.2-1", instance_type: ml.m5.xlarge}
    code: training_code/preprocess.py
    arguments: [--target, churned]
    inputs:
      - {name: raw, source: "${params.InputData}", destination: /opt/ml/processing/input}
    outputs:
      - {name: train, source: /opt/ml/processing/train}
      - {name: test, source: /opt/ml/processing/test}
  - name: Train
    kind: training
    estimator: {framework: sklearn, framework_version: "1.2-1", instance_type: ml.m5.xlarge}
    source_dir: sklearn_code
    entry_point: train.py
    hyperparameters: {max_iter: "${params.MaxIterations}"}
    inputs:
      - {name: train, source: "${steps.Preprocess.outputs.train}"}
  - name: Eval
    kind: processing
    processor: {framework: sklearn, framework_version: "1.2-1", instance_type: ml.m5.xlarge}
    code: training_code/evaluate.py
    arguments: [--task, binary_classification]
    inputs:
      - {name: model, source: "${steps.Train.model_artifacts}", destination: /opt/ml/processing/model}
      - {name: test, source: "${steps.Prep.outputs.test}", destination: /opt/ml/processing/test}
    outputs:
      - {name: evaluation, source: /opt/ml/processing/evaluation}
    property_files:
      - {name: Report, output: evaluation, path: evaluation.json}
  - name: Gate
    kind: condition
    conditions:
      - operator: greater_than_or_equal_to
        left: {step: Eval, property_file: Report, json_path: binary_classification_metrics.accuracy.value}
        right: "${params.Threshold}"
    if_steps: [Register]
    else_steps: [Stop]
  - name: Register
    kind: register_model
    model: {training_step: Train, source_dir: sklearn_code, entry_point: inference.py}
    model_package_group: arn:aws:sagemaker:us-east-1:222222222222:model-package-group/churn
    content_types: [text/csv]
    response_types: [application/json]
    inference_instances: [ml.m5.large]
    aproval_status: PendingManualApproval
  - name: Stop
    kind: fail
    error_message: test accuracy below ${params.Threshold}
"""

KMS_KEY = "arn:aws:kms:us-east-1:222222222222:key/6f0c1d9e-3b7a-4e52-9c1f-2a8d4b6e7f10"
# What fixes the draft's mistakes in the spec (the sixth is in the accounts file: ACCOUNTS_FIX).
DRAFT_FIXES: Edits = (
    (
        "  default_bucket: sagespec-ds-experiments-111111111111\n",
        f"  default_bucket: sagespec-ds-experiments-111111111111\n  kms_key: {KMS_KEY}\n",
    ),
    ('default: "0.8"', "default: 0.8"),
    ("${params.MaxIterations}", "${params.MaxIter}"),
    ("${steps.Preprocess.outputs.train}", "${steps.Prep.outputs.train}"),
    ("aproval_status:", "approval_status:"),
)
ACCOUNTS_FIX: Edits = (("  - breast-cancer\n", "  - breast-cancer\n  - churn\n"),)

# The classifier template of the E1 examples, and the spec that uses it.
TEMPLATE = """\
template:
  description: A scikit-learn classifier of a CSV with a header row.
  params:
    pipeline_name: {type: string, description: Name of the SageMaker pipeline}
    target: {type: string, description: The column to predict}
    instance_type: {type: string, default: ml.m5.xlarge, description: Instance type of every job}
    max_iter: {type: integer, default: 200, description: Iterations of the logistic regression}
spec:
  name: "{{ pipeline_name }}"
  session:
    region: us-east-1
    role: arn:aws:iam::111111111111:role/sagespec-data-science-execution
    default_bucket: sagespec-ds-experiments-111111111111
  steps:
    - name: Prep
      kind: processing
      processor: {framework: sklearn, framework_version: "1.2-1", instance_type: "{{ instance_type }}"}
      code: training_code/preprocess.py
      arguments: ["--target", "{{ target }}"]
      inputs:
        - {name: raw, source: "s3://sagespec-ds-experiments-111111111111/{{ pipeline_name }}/data.csv", destination: /opt/ml/processing/input}
      outputs:
        - {name: train, source: /opt/ml/processing/train}
    - name: Train
      kind: training
      estimator: {framework: sklearn, framework_version: "1.2-1", instance_type: "{{ instance_type }}"}
      source_dir: sklearn_code
      entry_point: train.py
      hyperparameters: {max_iter: "{{ max_iter }}"}
      inputs:
        - {name: train, source: "${steps.Prep.outputs.train}"}
"""
USE = """\
template:
  name: classifier
  params: {pipeline_name: churn, target: churned}
"""


def apply(text: str, edits: Edits) -> str:
    """`text` with each (old, new) replaced once, in order; an `old` not found is a stale example."""
    for old, new in edits:
        if old not in text:
            raise ValueError(f"an example's change no longer applies: {old!r} is not in the file")
        text = text.replace(old, new, 1)
    return text


def base_spec() -> str:
    return apply(DRAFT, DRAFT_FIXES)


def diff(before: str, after: str, title: str = "") -> str:
    """A unified diff's hunks (1 line of context), as a ```diff block."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1))[2:]
    head = f'```diff title="{title}"' if title else "```diff"
    return head + "\n" + "\n".join(lines) + "\n```"


def fenced(text: str, language: str = "text") -> str:
    return f"```{language}\n{text}\n```"


# -- the examples ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A file `sagespec validate` reports with `code`: a base file ("spec": churn.yaml,
    "template": the classifier template, "use": the spec using it, "accounts": the accounts
    file) with `change` applied. `fixed`: the change that fixes the failing file (None: back to
    the base). `special`: a file a diff cannot show (another encoding, a link, a large file)."""

    code: str
    change: Edits
    fix: str
    fixed: Edits | None = None
    base: str = "spec"
    special: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Run:
    """Command lines run in order for `code` (the last fails with it; earlier ones set it up),
    then `fixed` commands that show the fix works. `before`: prepares files, not shown.
    `shell`: the lines run in bash (an environment variable set on the line)."""

    code: str
    commands: tuple[str, ...]
    expect: tuple[int, ...]
    fix: str
    fixed: tuple[str, ...] = ()
    fixed_expect: tuple[int, ...] = ()
    detail: str = ""
    cwd: str = "."
    before: Callable[[Session], None] | None = None
    shell: bool = False
    session: Callable[[], Session] | None = None  # a session of its own (another environment)
    lead: str = ""  # a sentence before the block: what was run, and where
    aws: bool = False  # against moto's server (AWS_ENDPOINT_URL), started before the first such run


@dataclass(frozen=True)
class NotRun:
    """A code this page cannot produce: why, and what a user sees and does."""

    code: str
    why: str
    detail: str = ""


CHURN_GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/churn"
CHURN_VERSION = "arn:aws:sagemaker:us-east-1:222222222222:model-package/churn/{}"
# An object in the local store where a churn training job would write its model (the QA and prod
# roles may read churn's model artifacts, which `sagespec run churn.yaml` granted locally).
MODEL_DATA = "s3://sagespec-ds-experiments-111111111111/churn/Train/{}/output/model.tar.gz"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

TUNING_STEP = """\
  - name: Tune
    kind: tuning
    estimator: {framework: sklearn, framework_version: "1.2-1", instance_type: ml.m5.xlarge}
    source_dir: sklearn_code
    entry_point: train.py
    inputs:
      - {name: train, source: "${steps.Prep.outputs.train}"}
    tuning:
      objective: {metric: "validation:accuracy", type: Maximize}
      max_jobs: 8
      ranges:
        C: {type: continuous, min: 0.01, max: 10, scaling: Logarithmic}
"""
METRICS = 'metric_definitions: [{name: "validation:accuracy", regex: "validation_accuracy=([0-9.]+)"}]'

CASES: list[Case] = [
    # E0: reading the file
    Case(
        "E0001",
        (("description: Customer churn (scikit-learn)", "description: Customer churn of the Zürich stores (scikit-learn)"),),
        "Save the file as UTF-8 (every editor can; `iconv -f latin1 -t utf-8`).",
        special="latin-1",
        detail="Also when a path given to `validate` names no file, folder or matching glob, or is empty, "
        "or the file cannot be opened (no permission, a name too long). Any E0001 makes `validate` exit 2.",
    ),
    Case(
        "E0002",
        (("      - {name: test, source: /opt/ml/processing/test}\n", "      - {name: test, source: /opt/ml/processing/test\n"),),
        "Close the flow mapping: `}` at the end of the line. The hint names where the construct began.",
        detail="The position is where the YAML parser gave up, which may be a line after the mistake.",
    ),
    Case(
        "E0003",
        (("    code: training_code/evaluate.py\n", "    code: training_code/evaluate.py\n    code: training_code/eval.py\n"),),
        "Keep one of the two keys. Plain YAML keeps the last value silently; sagespec refuses the file.",
    ),
    Case(
        "E0004",
        (("  role: arn:aws:iam::111111111111:role/", "  role: !Sub arn:aws:iam::${AWS::AccountId}:role/"),),
        "Write the value itself. Tags (`!Sub`, `!Ref`, `!!python/...`) are CloudFormation's or a "
        "program's; a spec holds plain data. Values that differ per account come from the accounts "
        "file through a template (`{{ accounts.data_science.role_arn }}`).",
    ),
    Case(
        "E0005",
        (
            (
                "parameters:\n",
                "tags:\n"
                "  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                "  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                "parameters:\n",
            ),
        ),
        "Write repeated parts once; a template parameter can fill the same value into many places.",
        detail="The limit is 100,000 nodes after aliases expand (an alias bomb); an alias inside the anchor it names is refused too.",
    ),
    Case(
        "E0006",
        (
            (
                "    error_message: test accuracy below ${params.Threshold}\n",
                "    error_message: test accuracy below ${params.Threshold}\n---\nname: churn-v2\n",
            ),
        ),
        "One spec per file: move the second document into a file of its own.",
        detail="An empty file is reported with this code too.",
    ),
    Case(
        "E0007",
        (("parameters:\n", "tags: {team: data-science, 2026: budget}\nparameters:\n"),),
        "Quote the key. YAML reads `2026` as a number, and `yes`, `no`, `on` and `off` as booleans.",
        fixed=(("2026: budget", '"2026": budget'),),
    ),
    Case(
        "E0009",
        (),
        "Keep the spec in the project: copy it in instead of linking to it.",
        special="link",
        detail="Also a FIFO, a device or a folder given where a file is read, and a link loop. "
        "The message names the path, never what is behind it.",
    ),
    Case(
        "E0010",
        (),
        "Keep specs small: data belongs in S3, long lists in a template's parameters.",
        special="large",
        detail="The limit is 1 MiB for specs, templates and the accounts file; it is checked before reading, and a read never takes more.",
    ),
    # E1: templates (the classifier template, or the spec that uses it)
    Case(
        "E1001",
        (("  name: classifier", "  name: clasifier"),),
        "Name a template of `pipelines/templates/` (the hint suggests the closest).",
        fixed=(("  name: clasifier", "  name: classifier"),),
        base="use",
    ),
    Case(
        "E1002",
        (('  name: "{{ pipeline_name }}"', '  name: "{{ pipeline_name }"'),),
        "Close the expression: `{{ pipeline_name }}`.",
        base="template",
        detail="Reported at the template's line, with a note naming the spec that used it.",
    ),
    Case(
        "E1003",
        (('  name: "{{ pipeline_name }}"', '  name: "{{ pipeline }}"'),),
        "Use a declared parameter (the hint suggests the closest), or declare it under `template.params`.",
        base="template",
        detail="Undefined variables are errors, not empty strings. Also when a spec's parameters use "
        "`accounts` and the project's accounts file is missing or invalid.",
    ),
    Case(
        "E1004",
        (("target: churned}", "target: churned, maxiter: 500}"),),
        "Pass only parameters the template declares (the hint suggests the closest).",
        fixed=(("maxiter: 500", "max_iter: 500"),),
        base="use",
    ),
    Case(
        "E1005",
        (("pipeline_name: churn, target: churned", "pipeline_name: churn"),),
        "Pass the parameter; a parameter without a `default` in the template is required. The hint is its description.",
        base="use",
    ),
    Case(
        "E1006",
        (("target: churned}", 'target: churned, max_iter: "500"}'),),
        "Pass a value of the declared type (string, integer, number, boolean, list, mapping): here a number without quotes.",
        fixed=(('max_iter: "500"', "max_iter: 500"),),
        base="use",
    ),
    Case(
        "E1007",
        (('arguments: ["--target", "{{ target }}"]', 'arguments: ["--target", "{{ target.__class__ }}"]'),),
        "Templates render in Jinja2's sandbox: attributes that start with `_` and calls that could "
        "reach Python internals are refused. Compute the value from the parameters themselves.",
        base="template",
    ),
    Case(
        "E1008",
        (("spec:\n  name:", "spec:\n  template: {name: classifier}\n  name:"),),
        "A template's `spec:` cannot name another template: copy what you need into this one, or pass values as parameters.",
        base="template",
    ),
    Case(
        "E1009",
        (
            (
                "    default_bucket: sagespec-ds-experiments-111111111111\n",
                "    default_bucket: sagespec-ds-experiments-111111111111\n"
                "    default_bucket_prefix: \"{{ pipeline_name + '/v' + max_iter }}\"\n",
            ),
        ),
        "Fix the expression; here an integer joins text through `~`, which converts: `{{ pipeline_name ~ '/v' ~ max_iter }}`.",
        fixed=(("pipeline_name + '/v' + max_iter", "pipeline_name ~ '/v' ~ max_iter"),),
        base="template",
        detail="The message is the Python exception the expression raised.",
    ),
    Case(
        "E1010",
        (('arguments: ["--target", "{{ target }}"]', 'arguments: ["--target", "{{ target.lower }}"]'),),
        "Call the method: `{{ target.lower() }}`. An expression must give a string, number, boolean, list or mapping.",
        fixed=(("{{ target.lower }}", "{{ target.lower() }}"),),
        base="template",
    ),
    Case(
        "E1011",
        (
            (
                'hyperparameters: {max_iter: "{{ max_iter }}"}',
                'hyperparameters: {max_iter: "{{ max_iter }}", seeds: "{{ range(100000) | join(\',\') }}"}',
            ),
        ),
        "A template fills in values; it does not compute large ones. Pass the value as a parameter, or keep it small.",
        base="template",
        detail="The bounds: 64K characters a value (and a repetition), `range` over 10,000 items, powers over 64 bits, 2 seconds a value.",
    ),
    # E2: JSON Schema
    Case(
        "E2001",
        (("    entry_point: train.py\n", "    entry_point: train.py\n    depends: [Prep]\n"),),
        "Use a key the schema knows (the hint suggests the closest). `sagespec schema` prints every key.",
        fixed=(("    depends: [Prep]", "    depends_on: [Prep]"),),
    ),
    Case("E2002", (("    kind: fail\n", ""),), "Add the key."),
    Case(
        "E2003",
        (("    inference_instances: [ml.m5.large]", "    inference_instances: ml.m5.large"),),
        "Write a value of the type the key takes: here a list.",
    ),
    Case(
        "E2004",
        (("      - operator: greater_than_or_equal_to", "      - operator: greater_or_equal"),),
        "Use one of the allowed values (the hint suggests the closest).",
    ),
    Case(
        "E2005",
        (
            (
                'estimator: {framework: sklearn, framework_version: "1.2-1", instance_type: ml.m5.xlarge}',
                'estimator: {framework: sklearn, framework_version: "1.2-1", instance_type: m5.xlarge}',
            ),
        ),
        "Write the value in the format the hint names.",
        detail="Formats: ARNs, account IDs, regions, S3 URIs, instance types, names, durations. Names, "
        "ARNs and paths must not hold control characters (a trailing newline from a `|` block).",
    ),
    Case(
        "E2006",
        (
            (
                "instance_type: ml.m5.xlarge}\n    code: training_code/preprocess.py",
                "instance_type: ml.m5.xlarge, instance_count: 0}\n    code: training_code/preprocess.py",
            ),
        ),
        "Use a value in range.",
        detail="Ranges include SageMaker's request limits (10 processing inputs and outputs, 20 training "
        "channels, 100 hyperparameters, 100 environment variables, 1 to 100 container arguments of 256 "
        "characters) and empty lists where one item is needed.",
    ),
    Case(
        "E2007",
        (("    if_steps: [Register]\n    else_steps: [Stop]\n", ""),),
        "Give the value one of the forms the message lists: a condition step needs `if_steps`, `else_steps` or both.",
    ),
    Case(
        "E2008",
        (("Threshold: {type: Float, default: 0.8}", "Threshold: {type: Float, default: .inf}"),),
        "Use a finite number: JSON has no NaN or infinity, so no pipeline definition could carry it.",
    ),
    # E3: references and graph
    Case(
        "E3001",
        (("    if_steps: [Register]", "    if_steps: [Regsiter]"),),
        "Name a step of the pipeline (the hint suggests the closest).",
        detail="In `${steps.NAME...}`, `depends_on`, condition branches, property-file reads and `model: {training_step: ...}`.",
    ),
    Case(
        "E3002",
        (('        right: "${params.Threshold}"', '        right: "${params.Treshold}"'),),
        "Name a parameter declared under `parameters:`.",
    ),
    Case(
        "E3003",
        (("    entry_point: train.py\n", "    entry_point: train.py\n    depends_on: [Eval]\n"),),
        "Break one link of the cycle. `A -> B` means A waits for B, through a reference, `depends_on`, a model or a branch.",
    ),
    Case(
        "E3004",
        (('source: "${steps.Prep.outputs.train}"', 'source: "${steps.Prep.outputs}"'),),
        "Write one of the forms the hint lists; `$${` is a literal `${`.",
    ),
    Case(
        "E3005",
        (('source: "${steps.Prep.outputs.test}"', 'source: "${steps.Prep.outputs.validation}"'),),
        "Refer to something the step produces (the hint lists its outputs), or declare the output on that step.",
        detail="Also `model_artifacts` of a step that trains nothing, and a property the step kind does not have.",
    ),
    Case(
        "E3006",
        (
            (
                "    error_message: test accuracy below ${params.Threshold}\n",
                "    error_message: test accuracy below ${params.Threshold}\n  - name: Stop\n    kind: fail\n    error_message: stopped by hand\n",
            ),
        ),
        "Give each step its own name.",
    ),
    Case(
        "E3007",
        (("    else_steps: [Stop]", "    else_steps: [Stop, Register]"),),
        "A step runs in at most one branch: remove it from one, or copy it under another name.",
    ),
    Case(
        "E3008",
        (('      - {name: test, source: "${steps.Prep.outputs.test}"', '      - {name: model, source: "${steps.Prep.outputs.test}"'),),
        "Give each input, output and property file of a step its own name.",
    ),
    # E4: step-specific and AWS formats
    Case(
        "E4001", (("property_file: Report,", "property_file: Metrics,"),), "Read a property file the step declares under `property_files`."
    ),
    Case("E4002", (("{name: Report, output: evaluation,", "{name: Report, output: metrics,"),), "Name one of the step's outputs."),
    Case(
        "E4003",
        (("json_path: binary_classification_metrics.accuracy.value", "json_path: binary_classification_metrics..accuracy"),),
        "Write dotted keys with optional `[n]` indexes, as SageMaker's JsonGet reads them.",
    ),
    Case(
        "E4004",
        (("code: training_code/evaluate.py", "code: training_code/eval.py"),),
        "Fix the path: paths are relative to the project root (the folder with pyproject.toml, .git or sagespec.toml).",
        detail="For `code`, `source_dir`, `entry_point` and a model's inference code.",
    ),
    Case(
        "E4005",
        (("code: training_code/evaluate.py", "code: ../shared/evaluate.py"),),
        "Keep code inside the project, so the same files are uploaded from every machine.",
        detail="Also an absolute path, a link out of the project, and a FIFO or device below a source folder "
        "(staging refuses them again right before packaging); and a symbolic link given to `sagespec data put`.",
    ),
    Case(
        "E4006",
        ((f"  kms_key: {KMS_KEY}", "  kms_key: alias/churn-artifacts"),),
        "Name the key by its ARN, a key the deployment and workload accounts may use (the accounts file's `artifacts.kms_key`).",
        detail="A register step whose model package group is in another account needs a KMS key on the "
        "training output (`session.kms_key` or the step's `output_kms_key`); a key ID or an alias resolves "
        "only inside the account that runs the pipeline.",
    ),
    Case(
        "E4007",
        (
            (
                "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/churn",
                "arn:aws:sagemaker:eu-west-1:222222222222:model-package-group/churn",
            ),
        ),
        "Use the ARN of the resource in the pipeline's region (and partition).",
    ),
    Case(
        "E4008",
        (
            (
                "  MaxIter: {type: Integer, default: 200}\n",
                '  MaxIter: {type: Integer, default: 200}\n  PrepInstances: {type: String, default: "1"}\n',
            ),
            (
                "instance_type: ml.m5.xlarge}\n    code: training_code/preprocess.py",
                'instance_type: ml.m5.xlarge, instance_count: "${params.PrepInstances}"}\n    code: training_code/preprocess.py',
            ),
        ),
        "Declare the parameter with the type its uses need.",
        fixed=(('PrepInstances: {type: String, default: "1"}', "PrepInstances: {type: Integer, default: 1}"),),
        detail='Also a default that is not of the parameter\'s type (`default: "0.8"` of a Float), and an '
        "ordering comparison (`greater_than`, ...) of strings.",
    ),
    Case(
        "E4009",
        (('{name: raw, source: "${params.InputData}"', "{name: raw, source: data/churn.csv"),),
        "Put the data in S3 (`sagespec data put` for local runs) and name its URI, or a parameter or another step's output.",
        detail="A local path, `file://` or `https://` would be uploaded from the machine that compiles.",
    ),
    Case(
        "E4010",
        (("default: s3://sagespec-ds-experiments-111111111111/churn/churn.csv", "default: s3://Churn_Data/churn.csv"),),
        "Use a bucket name S3 accepts: 3 to 63 lowercase letters, numbers, dots and hyphens.",
    ),
    Case(
        "E4012",
        (('      id: "555555555555"', '      id: "444444444444"'),),
        "Give each role of the workflow its own account.",
        base="accounts",
        detail="A key elsewhere: a KMS key of another region, partition or account than the artifacts' owner (shared services, unless `artifacts.owner` says otherwise). An unknown region: one of no partition, or without SageMaker. Also a `partition` that does not fit the region, and a `pipelines:` entry outside the project.",
    ),
    Case(
        "E4013",
        (
            (
                "model_package_group: arn:aws:sagemaker:us-east-1:222222222222:model-package-group/churn",
                "model_package_group: churn-experiments",
            ),
        ),
        "List the group in the accounts file: the shared registry's under `model_package_groups`, a "
        "workload's own under its account. `accounts apply` and local runs create the groups it lists.",
        detail="A group name without an ARN is in the account that runs the pipeline; the draft in [Reading a report](#reading-a-report) shows the shared registry's case.",
    ),
    Case(
        "E4014",
        (("model: {training_step: Train, source_dir: sklearn_code, entry_point: inference.py}", "model: {training_step: Train}"),),
        "Give the model a way to be served: here an inference script with `model_fn`.",
        detail="An estimator or processor that names no container or two; a framework without "
        "`framework_version`, or a script-mode framework without its script; huggingface without "
        "`pytorch_version`; a `source_dir` that does not fit its processor; a registered model with no "
        "inference script or serving image, or one the SDK would repack.",
    ),
    Case(
        "E4015",
        (("instance_type: ml.m5.xlarge}\n    source_dir", "instance_type: ml.m5.xlarge, use_spot_instances: true}\n    source_dir"),),
        "Say how long to wait for spot capacity: `max_wait_seconds`, at least `max_runtime_seconds`.",
        fixed=(("use_spot_instances: true}", "use_spot_instances: true, max_runtime_seconds: 3600, max_wait_seconds: 7200}"),),
        detail="Also `max_wait_seconds` without `use_spot_instances: true`. With no `max_runtime_seconds`, `max_wait_seconds` is compared with its default, 24 hours.",
    ),
    Case(
        "E4016",
        (
            (
                "  Threshold: {type: Float, default: 0.8}\n",
                f'  Threshold: {{type: Float, default: 0.8}}\n  ModelPackageGroup: {{type: String, default: "{CHURN_VERSION.format(3)}"}}\n',
            ),
            (
                "model_package_group: arn:aws:sagemaker:us-east-1:222222222222:model-package-group/churn",
                "model_package_group: ${params.ModelPackageGroup}",
            ),
        ),
        "Make the default the group's name or ARN (`model-package-group/churn`), not a version's.",
        fixed=(("model-package/churn/3", "model-package-group/churn"),),
        detail="The default is what validation, `accounts check` and the rendered policies use.",
    ),
    Case(
        "E4017",
        (("  - name: Eval\n", TUNING_STEP + "  - name: Eval\n"),),
        "Define the metric the objective names: the estimator's `metric_definitions` says how to read it from the log.",
        fixed=(
            (
                'instance_type: ml.m5.xlarge}\n    source_dir: sklearn_code\n    entry_point: train.py\n    inputs:\n      - {name: train, source: "${steps.Prep.outputs.train}"}\n    tuning',
                f'instance_type: ml.m5.xlarge, {METRICS}}}\n    source_dir: sklearn_code\n    entry_point: train.py\n    inputs:\n      - {{name: train, source: "${{steps.Prep.outputs.train}}"}}\n    tuning',
            ),
        ),
        detail="Also a hyperparameter both tuned and static, a range whose type cannot take its bounds, a Grid search whose `max_jobs` is not its number of combinations, no `max_jobs` where the strategy needs one, and more parallel jobs than jobs.",
    ),
    Case(
        "E4018",
        (
            (
                "  - name: Stop\n",
                "  - name: Score\n    kind: transform\n    model_name: churn-model\n    instance_type: ml.m5.xlarge\n"
                '    input: {source: "${steps.Prep.outputs.test}", content_type: text/csv}\n    strategy: MultiRecord\n'
                "  - name: Stop\n",
            ),
        ),
        "Say how to split the objects into records: `input: {..., split_type: Line}`.",
        fixed=(("content_type: text/csv}\n    strategy", "content_type: text/csv, split_type: Line}\n    strategy"),),
        detail="Too large a payload: `max_concurrent_transforms` x `max_payload_mb` above 100 MB.",
    ),
    Case(
        "E4019",
        (
            (
                "    approval_status: PendingManualApproval\n",
                "    approval_status: PendingManualApproval\n    retry: [{exceptions: [SageMaker.CAPACITY_ERROR], max_attempts: 3}]\n",
            ),
        ),
        "Retry such a step on `Step.SERVICE_FAULT` or `Step.THROTTLING`; SageMaker job exceptions cannot occur in it.",
        fixed=(("SageMaker.CAPACITY_ERROR", "Step.THROTTLING"),),
        detail="For `create_model` and `register_model` steps, which start no job.",
    ),
    Case(
        "E4020",
        (
            (
                "  - name: Stop\n",
                "  - name: ModelQuality\n    kind: quality_check\n    check: model_quality\n"
                '    dataset: "${steps.Prep.outputs.test}"\n    dataset_format: {csv: {header: false}}\n'
                "    instance_type: ml.m5.xlarge\n    problem_type: BinaryClassification\n    ground_truth_attribute: _c0\n"
                "    model_package_group: california-housing-experiments\n  - name: Stop\n",
            ),
        ),
        "Name the prediction's column: `inference_attribute` (or `probability_attribute`).",
        fixed=(("    ground_truth_attribute: _c0\n", "    ground_truth_attribute: _c0\n    inference_attribute: _c1\n"),),
        detail="Also model quality keys on a data quality check, and `quality_checks` beside `model_metrics`.",
    ),
    Case(
        "E4021",
        (("parameters:\n", 'schedule: {cron: "0 3 * * *"}\nparameters:\n'),),
        "Write EventBridge's six fields (minutes hours day-of-month month day-of-week year), one of the days `?`.",
        fixed=(('"0 3 * * *"', '"0 3 * * ? *"'),),
        detail="Also not exactly one of `cron` and `rate`, a rate with a wrong unit or number, an unknown "
        "time zone, a parameter the pipeline does not declare or a value not of its type, a pipeline "
        "name longer than a schedule name may be (64).",
    ),
    Case(
        "E4022",
        (
            (
                "  - name: Stop\n",
                "  - name: Notify\n    kind: lambda\n    function_name: churn-notify\n"
                "    execution_role_arn: arn:aws:iam::111111111111:role/churn-notify\n  - name: Stop\n",
            ),
        ),
        "A function to create needs its `script` and `handler`; to call an existing function, name only its `function_arn`.",
        fixed=(
            (
                "    function_name: churn-notify\n    execution_role_arn: arn:aws:iam::111111111111:role/churn-notify\n",
                "    function_arn: arn:aws:lambda:us-east-1:111111111111:function:churn-notify\n",
            ),
        ),
        detail="Also a step naming no function, a script without a handler, a role for an existing function, "
        "and a handler whose module is not the script's or whose function the script does not define.",
    ),
    Case(
        "E4023",
        (
            (
                "  - name: Stop\n",
                "  - name: Export\n    kind: emr\n    depends_on: [Gate]\n    jar: command-runner.jar\n"
                "    args: [spark-submit, s3://sagespec-ds-experiments-111111111111/churn/export.py]\n"
                "    cluster_config:\n      Name: churn-export\n      ReleaseLabel: emr-7.5.0\n"
                "      Instances:\n        InstanceGroups:\n"
                "          - {InstanceRole: MASTER, InstanceType: m5.xlarge, InstanceCount: 1}\n"
                "        KeepJobFlowAliveWhenNoSteps: true\n"
                "      JobFlowRole: EMR_EC2_DefaultRole\n      ServiceRole: EMR_DefaultRole\n  - name: Stop\n",
            ),
        ),
        "Leave out what SageMaker sets for the cluster it launches (Name, Steps, AutoTerminationPolicy) and what would keep it "
        "after the step; the rest is EMR's RunJobFlow request.",
        fixed=(
            ("    cluster_config:\n      Name: churn-export\n", "    cluster_config:\n"),
            ("        KeepJobFlowAliveWhenNoSteps: true\n", ""),
        ),
        detail="Also Instances with both or neither of InstanceGroups and InstanceFleets, a value EMR's RunJobFlow does not "
        "take (checked against botocore's EMR service model), and an execution_role_arn with a cluster_config.",
    ),
    # W: warnings
    Case(
        "W4001",
        (
            (
                "  Threshold: {type: Float, default: 0.8}\n",
                '  Threshold: {type: Float, default: 0.8}\n  Register: {type: String, default: "yes"}\n',
            ),
            (
                '        right: "${params.Threshold}"\n',
                '        right: "${params.Threshold}"\n      - operator: equals\n        left: "${params.Register}"\n        right: true\n',
            ),
        ),
        "Compare values of one kind: here a Boolean parameter.",
        fixed=(('Register: {type: String, default: "yes"}', "Register: {type: Boolean, default: true}"),),
        detail="sagespec warns where it knows both kinds: parameters and literals. A property file's value is read at run time.",
    ),
    Case(
        "W4002",
        (("approval_status: PendingManualApproval", "approval_status: Approved"),),
        "Register as PendingManualApproval; the deployment account approves (`sagespec models approve`).",
        detail="The rendered group policy lets data science register PendingManualApproval versions only, so "
        "SageMaker would refuse the registration.",
    ),
    Case(
        "W4003",
        (
            (
                "  - name: Eval\n",
                TUNING_STEP.replace("instance_type: ml.m5.xlarge}", f"instance_type: ml.m5.xlarge, {METRICS}}}").replace(
                    "    tuning:", "    retry: [{exceptions: [SageMaker.JOB_INTERNAL_ERROR], max_attempts: 2}]\n    tuning:"
                )
                + "  - name: Eval\n",
            ),
        ),
        "Leave the retry out: the tuning job's training jobs retry internal errors themselves.",
    ),
    Case(
        "W4004",
        (
            (
                "  - name: Stop\n",
                "  - name: CreateModel\n    kind: create_model\n"
                "    model: {training_step: Train, source_dir: sklearn_code, entry_point: inference.py}\n"
                "    instance_type: ml.m5.large\n    accelerator_type: ml.eia1.medium\n  - name: Stop\n",
            ),
        ),
        "Leave `accelerator_type` out and choose an inference instance type that has what the model needs.",
        detail='The SDK examples still pass `accelerator_type="ml.eia1.medium"` to `model.create`; the spec takes it as '
        "they write it, and says that the accelerator no longer exists.",
    ),
    Case(
        "W4005",
        (
            (
                "  MaxIter: {type: Integer, default: 200}\n",
                "  MaxIter: {type: Integer, default: 200}\n  EvalInstance: {type: String, default: ml.m5.xlarge}\n",
            ),
            (
                '    processor: {framework: sklearn, framework_version: "1.2-1", instance_type: ml.m5.xlarge}\n    code: training_code/evaluate.py\n',
                "    processor:\n"
                '      image_uri: {framework: sklearn, version: "1.2-1", instance_type: "${params.EvalInstance}"}\n'
                "      command: [python3]\n"
                "      instance_type: ${params.EvalInstance}\n"
                "    code: training_code/evaluate.py\n",
            ),
        ),
        "Write the image's instance type as a literal, or keep the parameter's default the instance type the image is for.",
        detail="The SageMaker project templates pass their instance type parameter to `image_uris.retrieve`; the SDK "
        "takes the parameter's default there, and so does the spec, with this warning.",
    ),
]


def _qa_only(s: Session) -> None:
    """E6014: a project whose accounts file (the page's, after its fix) has a qa workload account only."""
    text = s.read("pipelines/accounts.yaml")
    start, end = text.index("    prod:\n"), text.index("artifacts:\n")
    s.write("qa-only/sagespec.toml", "")
    s.write("qa-only/pipelines/accounts.yaml", text[:start] + text[end:])


def _policy(s: Session) -> None:
    s.write("policy.json", '{"Version": "2012-10-17"}\n')


def _old_workspace(s: Session) -> None:
    s.write("old-workspace/control-plane.sqlite3", "SQLite format 2, or something else\n")


def _bad_version(s: Session) -> None:
    s.write("model.tar.gz", "an upload that went wrong\n")


def _graphviz_free() -> Session:
    """A session whose PATH holds only sagespec's own folder: no Graphviz `dot` on it."""
    s = Session("churn", env={"PATH": str(SAGESPEC.parent)})
    s.write("churn.yaml", base_spec())
    s.write("pipelines/accounts.yaml", apply(s.read("pipelines/accounts.yaml"), ACCOUNTS_FIX))
    return s


RUNS: list[Run] = [
    Run(
        "E0001",
        ("sagespec validate churn.yml",),
        (2,),
        "Name an existing file, folder or glob (quote a glob; sagespec expands it).",
        lead="A path that names nothing (the spec is `churn.yaml`):",
    ),
    Run(
        "E0008",
        ("sagespec graph churn.yaml --output svg -o churn.svg",),
        (2,),
        "Install Graphviz (`apt-get install graphviz`, `brew install graphviz`), or draw as Mermaid or DOT, which need nothing:",
        fixed=("sagespec graph churn.yaml --output mermaid",),
        fixed_expect=(0,),
        session=_graphviz_free,
        lead="This page is built on a machine that has Graphviz; the command ran with a PATH that leaves `dot` out.",
    ),
    # E5: compile
    Run(
        "E5001",
        ("sagespec compile e5/E5001.yaml",),
        (1,),
        "Use a version the SDK supports (the message lists them); the base spec's 1.2-1 compiles:",
        fixed=("sagespec compile churn.yaml -o churn.json",),
        fixed_expect=(0,),
        before=lambda s: s.write(
            "e5/E5001.yaml",
            apply(
                base_spec(),
                (
                    (
                        'framework_version: "1.2-1", instance_type: ml.m5.xlarge}\n    source_dir',
                        'framework_version: "1.99", instance_type: ml.m5.xlarge}\n    source_dir',
                    ),
                ),
            ),
        ),
        lead='`e5/E5001.yaml` is the base spec with `framework_version: "1.99"` on its training step.',
        detail="Validation checks what the schema and sagespec's own rules know; a framework version is the SDK's to accept, at compile time.",
    ),
    Run(
        "E5011",
        ("sagespec compile churn.yaml --sdk v3",),
        (1,),
        "Compile with the SDK that is installed (drop `--sdk`, or unset `SAGESPEC_SDK`), or install the other "
        "major in an environment of its own: one environment holds one of them.",
    ),
    # E6: AWS and runtime, in the order they run (the session's state flows from one to the next)
    Run(
        "E6001",
        ("sagespec upsert churn.yaml --target aws",),
        (1,),
        "Give the AWS SDK credentials: a profile (`--profile`, `AWS_PROFILE`), `AWS_ACCESS_KEY_ID` and "
        "`AWS_SECRET_ACCESS_KEY`, or `aws sso login`. Without `--target aws`, `upsert` stores the pipeline "
        "in the local control plane when no credentials are configured.",
        lead="This machine has no AWS credentials.",
    ),
    Run(
        "E6003",
        ("sagespec upsert churn.yaml --profile qa",),
        (1,),
        "Configure the profile (`aws configure --profile qa`, or `aws configure sso`), or drop `--profile` to use "
        "the default credential chain.",
        detail="Also no region at all (pass `--region`, set `AWS_REGION`, or set one in the profile), and "
        "`--region` other than the spec's `session.region`.",
        lead="The accounts file names a profile for each account; none is configured on this machine.",
    ),
    Run(
        "E6006",
        ("sagespec run churn.yaml --param Threshhold=0.9",),
        (2,),
        "Name a parameter the pipeline declares (the hint lists them).",
        detail="The run compiles the spec and stores the pipeline first, and refuses the parameter before any step runs.",
    ),
    Run(
        "E6007",
        ("sagespec run churn.yaml --param Threshold=high",),
        (2,),
        "Give a value of the parameter's type (or one of its `enum` values).",
    ),
    Run(
        "E6009",
        ("sagespec run churn.yaml",),
        (1,),
        "Read the failed step's reason and log (`sagespec executions logs EXECUTION STEP`). Here the data is "
        "missing: put it where `InputData` points (`sagespec data put churn.csv "
        "s3://sagespec-ds-experiments-111111111111/churn/churn.csv`), or pass `--param InputData=...`.",
        detail="Also an execution still running when `--wait` gives up.",
        lead="Nothing is at the default `InputData` in the local object store of this project.",
    ),
    Run(
        "E6010",
        ("sagespec models list churn",),
        (1,),
        "Say who is calling: `--as` an account name of the accounts file, a 12-digit account ID or a role ARN, or set `SAGESPEC_AS`.",
        fixed=("sagespec models list churn --as shared-services",),
        fixed_expect=(0,),
        detail="Commands on the local control plane act as the role they name; it has no caller of its own.",
    ),
    Run(
        "E6013",
        ("sagespec models list churn --as data-scientist",),
        (1,),
        "Use a name of the accounts file (the hint lists them), an account ID or a role ARN.",
    ),
    Run(
        "E6005",
        ("sagespec models list churn --as data-science",),
        (1,),
        "A group name is looked up in the caller's own account: `churn` of data science is "
        "`arn:aws:sagemaker:us-east-1:111111111111:model-package-group/churn`. Name a group of another account "
        "by its ARN, as a caller its policy lets read it (the deployment account):",
        fixed=(f"sagespec models list {CHURN_GROUP} --as deployment",),
        fixed_expect=(0,),
        detail="Also a version, execution, step, endpoint or object that does not exist, locally or on AWS.",
    ),
    Run(
        "E6002",
        (
            f"sagespec models register {CHURN_GROUP} --model-data {MODEL_DATA.format('pipelines-1')} --as data-science",
            f"sagespec models approve {CHURN_VERSION.format(1)} --reason 'accuracy 0.93' --as data-science",
        ),
        (0, 1),
        "Act as the account the policy lets do it: the deployment account approves.",
        fixed=(f"sagespec models approve {CHURN_VERSION.format(1)} --reason 'accuracy 0.93' --as deployment",),
        fixed_expect=(0,),
        detail="The local control plane decides as IAM does, and words a refusal as AWS does, naming the "
        "deciding statement; on AWS, sagespec reports AccessDenied with what it was doing.",
    ),
    Run(
        "E6017",
        (f"sagespec models approve {CHURN_GROUP} --reason 'accuracy 0.93' --as deployment",),
        (2,),
        "Name the version: `model-package/GROUP/VERSION`.",
        detail="Also an S3 URI that is not `s3://bucket/key`, a bucket name or key S3 would refuse.",
    ),
    Run(
        "E6018",
        ("sagespec models policy put churn policy.json --as shared-services",),
        (2,),
        "Give the policy a `Statement` list. `sagespec accounts render` writes the policies the accounts file implies.",
        before=_policy,
        lead='`policy.json` holds `{"Version": "2012-10-17"}` and nothing else.',
        detail="Also a policy file that is not JSON, and a file `diff --against` reads that is not a pipeline definition.",
    ),
    Run(
        "E6011",
        ("sagespec models list churn --as shared-services --workspace old-workspace",),
        (1,),
        "Move the file aside to start a fresh workspace, or upgrade sagespec when the database is from a newer one.",
        before=_old_workspace,
        detail="Also a read-only workspace or a full disk; the message says which.",
        lead="`old-workspace/control-plane.sqlite3` holds text, not a database.",
    ),
    Run(
        "E6012",
        ("sagespec init pipelines",),
        (2,),
        "`init` writes only into a new or empty folder: name another one.",
        detail="Also a group, model, endpoint or endpoint config that exists, an execution that already "
        "ended (stop), succeeded (retry), or belongs to another pipeline, a callback answered before, and "
        "a selective execution that leaves out steps between those it runs.",
    ),
    Run(
        "E6016",
        ("sagespec graph churn.yaml -o docs/churn.mmd",),
        (2,),
        "Create the folder first, or write where you may.",
    ),
    Run(
        "E6014",
        ("sagespec promote churn --stage prod",),
        (1,),
        "Add the account under `accounts.workloads` of the accounts file.",
        cwd="qa-only",
        before=_qa_only,
        lead="`qa-only/` is a project whose accounts file has a qa workload account and no prod one.",
        detail="Also promotion with no workload accounts at all, and `--account` naming an account that is not a workload account.",
    ),
    Run(
        "E6019",
        (
            f"sagespec data put model.tar.gz {MODEL_DATA.format('pipelines-2')}",
            f"sagespec models register {CHURN_GROUP} --model-data {MODEL_DATA.format('pipelines-2')} "
            "--image 123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-server:1 --as data-science",
            f"sagespec models approve {CHURN_VERSION.format(2)} --reason 'own serving image' --as deployment",
            "sagespec promote churn --version 2",
        ),
        (0, 0, 0, 1),
        "Serve the model with one of the images the message lists to try it here; SageMaker serves it as "
        "registered. Pipelines are checked before they start: install the framework extra the message names "
        "(`pip install 'sagespec[local-torch]'`), or a Docker engine with the image for an image of your own.",
        before=_bad_version,
        lead="A version served by a team's own image (`model.tar.gz` stands in for its model: the image is checked first).",
        detail="Checked before a local run starts (every step's container), and when a local endpoint would load a model.",
    ),
    Run(
        "E6020",
        ("sagespec upsert churn.yaml",),
        (1,),
        "Create the bucket: `--create-bucket` (as the account that owns it), or `aws s3api create-bucket`.",
        aws=True,
        lead="Run against moto's server, as this page has no AWS account; no bucket exists there yet.",
        detail="Also the accounts file's artifact bucket when the caller is not the account that owns it: "
        "create it as that account, or deploy the template of `sagespec accounts render --output cloudformation`.",
    ),
    Run(
        "E6008",
        ("sagespec upsert churn.yaml --create-bucket --role arn:aws:iam::123456789012:role/churn-execution",),
        (1,),
        "Create the role (`sagespec accounts render` writes its policies), or pass `--role` with an existing one.",
        detail="Also a role that is not an IAM role ARN, and a pipeline with no `session.role` and no `--role`. "
        "A role in another account than the caller's is not checked here; SageMaker reports it.",
        aws=True,
        lead="Run against moto's server, as this page has no AWS account (its account is 123456789012): the bucket is created, the role does not exist.",
    ),
    Run(
        "E6004",
        ("AWS_ENDPOINT_URL=http://127.0.0.2:9 sagespec upsert churn.yaml",),
        (1,),
        "Check the network, proxy, region and endpoint settings (`AWS_ENDPOINT_URL`, `--region`).",
        shell=True,
        detail="Any AWS failure that is neither a denial nor a missing resource: throttling, a validation "
        "error of the service, a network error.",
        aws=True,
        lead="With moto's test credentials, and `AWS_ENDPOINT_URL` pointing at a port where nothing listens:",
    ),
    Run(
        "E6015",
        ("sagespec endpoints test churn-qa --target aws",),
        (2,),
        "Name the account: `--account qa`.",
        aws=True,
        lead="Run against moto's server, as this page has no AWS account.",
        detail="Also an option that does not apply to the target: `--upload-only` or schedules on the "
        "local control plane, which has no caller of its own and runs no schedules.",
    ),
    # E7: promotion and endpoints, in the order they run
    Run(
        "E7001",
        (
            f"sagespec models register {CHURN_GROUP} --model-data {MODEL_DATA.format('pipelines-3')} --image {SKLEARN_IMAGE} --as data-science",
            "sagespec promote churn --version 3",
        ),
        (0, 1),
        "Approve the version first, as the deployment account:",
        fixed=(f"sagespec models approve {CHURN_VERSION.format(3)} --reason 'accuracy 0.94 on the test split' --as deployment",),
        fixed_expect=(0,),
        detail="Without `--version`, `promote` takes the newest Approved version, and says so when there is none.",
    ),
    Run(
        "E7005",
        ("sagespec promote churn --canary-weight 0.1",),
        (2,),
        "A canary splits production traffic: `--stage prod --canary-weight 0.1`.",
        detail="Also `--on-approval` with `--target aws` (EventBridge and the CI/CD of `sagespec cicd` do that there).",
    ),
    Run(
        "E7002",
        ("sagespec promote churn --stage prod --yes",),
        (1,),
        "Promote to QA and pass `sagespec endpoints test churn-qa` first; or, in an emergency, "
        "`--force --reason TEXT` (kept with the deployment).",
    ),
    Run(
        "E7007",
        ("sagespec promote churn --stage prod --force --reason 'hotfix for ticket 42'",),
        (2,),
        "Run it at a terminal and answer the question, or pass `--yes` where an approval step already gated the change (CI).",
        detail="`promote` prints its plan first (what prod serves now, and after).",
    ),
    Run(
        "E7004",
        ("sagespec promote churn --stage prod --finalize --yes",),
        (1,),
        "Start a canary first: `sagespec promote churn --stage prod --canary-weight 0.1`.",
        detail="Also a canary where prod serves nothing yet, or serves that version already; a rollback with "
        "nothing to roll back to; and an endpoint that refuses a request (a body over 6 MB, an HTTP error).",
    ),
    Run(
        "E7003",
        (f"sagespec data put model.tar.gz {MODEL_DATA.format('pipelines-3')}", "sagespec promote churn --version 3"),
        (0, 1),
        "Read the log the hint names; here the model archive is not a gzip file: register a version whose "
        "model data is the archive a training job wrote.",
        before=_bad_version,
        detail="The endpoint's log tail is in the hint. A failed update leaves the endpoint serving its previous version.",
        lead="`model.tar.gz` is a text file, as an upload that went wrong leaves one.",
    ),
]

NOT_RUN: list[NotRun] = [
    NotRun(
        "E0011",
        "It means a bug in sagespec: a check raised an exception on one file. That file's finding is "
        "E0011 with the exception's message, an error (exit 1), and the other files are still checked. Report "
        "it with the file (the hint says so).",
    ),
    NotRun(
        "E5002",
        "sagespec checks what it knows the SDK would refuse before the SDK sees the pipeline, so no valid "
        "spec is known to reach it. If you see it, the message is the SDK's; report it with the spec.",
    ),
    NotRun(
        "E5003",
        "Compiling is offline: the SDK's session answers bucket checks and uploads, and any other AWS "
        "call it attempts is refused (the message names it, e.g. `sts:GetCallerIdentity`). No step "
        "sagespec builds makes one; if you see it, report it with the spec.",
    ),
    NotRun(
        "E5010",
        "This page is built in an environment with SageMaker Python SDK v2, where every spec feature "
        "compiles. With SDK v3 installed, `compile` reports each feature the v3 backend does not build yet, "
        "at its line (the [support tables](support.md) list them); compile those specs with SDK v2.",
    ),
    NotRun(
        "E7006",
        "It needs a QA endpoint that serves a trained model, which this page does not train. `sagespec "
        "endpoints test NAME` reports it when the version has no registered model-quality metrics, its "
        "test split cannot be found (pass `--data URI|FILE`), the test file has no rows or a target that is "
        "not a number, or the endpoint answers something that is not a list of numbers.",
    ),
]

STAGE_INTROS = {
    "E0": "Reading a file: what is not a readable, single, plain-data YAML document inside the project.",
    "E1": "Applying a template. Each template example is a copy of the classifier template below, "
    "named after its code (`pipelines/templates/e1002.yaml`), used by a spec of the same name in `e1/`; "
    "each spec example changes the spec that uses the template.",
    "E2": "The spec's shape against its JSON Schema (`sagespec schema` prints it). Every message names where "
    "the value is, and the hint what the schema expects.",
    "E3": "References between steps and parameters, and the graph they make.",
    "E4": "What SageMaker, S3, EventBridge or the cross-account workflow would refuse, checked before anything is compiled.",
    "E5": "Compiling the spec with the SageMaker Python SDK (`sagespec compile`, and every command that compiles).",
    "E6": "Commands that talk to AWS or to the local control plane. This page has no AWS account: the "
    "examples that reach AWS ran against [moto](https://github.com/getmoto/moto)'s server on 127.0.0.1 "
    "(`AWS_ENDPOINT_URL` set to it, with its test credentials), and say so; E6001 and E6003 ran with no "
    "AWS settings at all, the others on the local control plane.",
    "E7": "Promoting versions to the QA and prod endpoints (local control plane).",
    "W4": "Warnings: the file is still valid, and `validate` exits 0.",
}


# -- running and writing -----------------------------------------------------------------------

CODES_BY_STAGE: dict[str, list[str]] = {}
for _code in sorted(RULES):
    CODES_BY_STAGE.setdefault(_code[:2], []).append(_code)


def missing_entries() -> list[str]:
    """Codes of the catalogue with no Case, Run or NotRun (the docs build refuses them)."""
    covered = {e.code for e in [*CASES, *RUNS, *NOT_RUN]}
    return sorted(set(RULES) - covered)


def short(code: str) -> str:
    """The catalogue's meaning without its parenthesized examples (a heading's text)."""
    return re.sub(r" \([^)]*\)", "", RULES[code])


def session() -> Session:
    """The page's session: a copy of this repository's project, with no AWS settings (and no
    instance metadata lookups) until a Run with `aws` starts moto's server."""
    if missing_entries():
        raise RuntimeError(f"codes without an example or a reason in docs/_gen/errors.py: {', '.join(missing_entries())}")
    return Session("churn", env={"AWS_EC2_METADATA_DISABLED": "true"})


def opening_fixes(s: Session) -> None:
    """The draft's fixes as diffs, written to the project: churn.yaml becomes the base spec."""
    accounts = s.read("pipelines/accounts.yaml")
    out(diff(DRAFT, base_spec(), title="churn.yaml") + "\n")
    out(diff(accounts, apply(accounts, ACCOUNTS_FIX), title="pipelines/accounts.yaml") + "\n")
    s.write("churn.yaml", base_spec())
    s.write("pipelines/accounts.yaml", apply(accounts, ACCOUNTS_FIX))


def index() -> None:
    """The table of every code: its meaning, linked to its entry."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| [{code}](#{code.lower()}) | {RULES[code]} |" for code in sorted(RULES)]
    out("\n".join(rows))


def console_block(ran: list[tuple[str, str, int]]) -> str:
    """A ```console block of (command, masked output, exit code), as Session.console writes one."""
    lines = ["```console"]
    for command, text, code in ran:
        lines += [f"$ {command}", *text.splitlines()]
        if code != 0:
            lines += ["$ echo $?", str(code)]
    return "\n".join([*lines, "```"])


def run_console(s: Session, commands: tuple[str, ...], expect: tuple[int, ...], cwd: str = ".", shell: bool = False) -> str:
    ran = []
    for command, expected in zip(commands, expect, strict=True):
        text, code = s.output(command, expect=expected, cwd=cwd, shell=shell)
        ran.append((command, text, code))
    return console_block(ran)


@dataclass
class _Written:
    """A Case written into the project: where, how the page shows it, and what validate said of it."""

    case: Case
    path: str  # the failing file, relative to the project
    shown: str  # markdown: the file's change
    fix_shown: str = ""  # markdown: the fix's change, when it is not back to the base
    blocks: list[str] = field(default_factory=list)


def _write_case(s: Session, case: Case, folder: str) -> _Written:
    """Write the failing file into `folder`/ and its fix into `folder`-fixed/."""
    code = case.code
    path, fixed_path = f"{folder}/{code}.yaml", f"{folder}-fixed/{code}.yaml"
    base = {"template": TEMPLATE, "use": USE, "spec": base_spec()}.get(case.base) or s.read("pipelines/accounts.yaml")
    if case.base == "accounts":
        path, fixed_path = f"{folder}/{code}/accounts.yaml", f"{folder}-fixed/{code}/accounts.yaml"
    bad = apply(base, case.change)
    good = apply(bad, case.fixed) if case.fixed is not None else base
    fix_shown = diff(bad, good) if case.fixed is not None else ""
    change = diff(base, bad)
    if case.base == "template":  # the changed template, named after the code, and a spec in e1/ that uses it
        name = code.lower()
        fixed_name = f"{name}_fixed" if case.fixed is not None else "classifier"
        s.write(f"pipelines/templates/{name}.yaml", bad)
        s.write(f"pipelines/templates/{fixed_name}.yaml", good)
        s.write(path, USE.replace("name: classifier", f"name: {name}"))
        s.write(fixed_path, USE.replace("name: classifier", f"name: {fixed_name}"))
        return _Written(
            case,
            path,
            f"`pipelines/templates/{name}.yaml`, the classifier template with this change, used by `{path}`:\n\n{change}",
            fix_shown,
        )
    s.write(fixed_path, good)
    if case.special == "latin-1":
        (s.project / path).parent.mkdir(parents=True, exist_ok=True)
        (s.project / path).write_bytes(bad.encode("latin-1"))
        return _Written(
            case, path, f"`{path}`, the base spec with this change, saved as Latin-1 (ISO 8859-1), as some editors save it:\n\n{change}"
        )
    if case.special == "link":
        outside = s.scratch / "elsewhere" / "churn.yaml"
        outside.parent.mkdir(exist_ok=True)
        outside.write_text(base, encoding="utf-8")
        (s.project / folder).mkdir(parents=True, exist_ok=True)
        os.symlink(outside, s.project / path)
        return _Written(
            case, path, f"`{path}` is a symbolic link to `~/elsewhere/churn.yaml`, a copy of the base spec outside the project."
        )
    if case.special == "large":
        padding = "".join(f"# generated row {i:05d}: {'x' * 100}\n" for i in range(10_000))
        s.write(path, base + padding)
        size = len((base + padding).encode())
        return _Written(
            case, path, f"`{path}` is the base spec followed by 10,000 lines of comments ({size:,} bytes), as a generated file might be."
        )
    s.write(path, bad)
    what = {"use": "the spec that uses the classifier template", "accounts": "the project's accounts file"}.get(case.base, "the base spec")
    return _Written(case, path, f"`{path}`, {what} with this change:\n\n{change}", fix_shown)


def _findings(output: str) -> list[str]:
    """The findings of a `validate` output: each a first line and its indented hint and note lines."""
    found: list[str] = []
    for line in output.splitlines():
        if line.startswith("  ") and found:
            found[-1] += "\n" + line
        elif ": error[" in line or ": warning[" in line:
            found.append(line)
    return found


def _validate_cases(s: Session, prefix: str) -> tuple[dict[str, list[_Written]], list[str]]:
    """Write the stage's cases, validate them in one run and their fixes in another; each case
    gets the findings about its file (in a template it uses: "used by FILE")."""
    folder = prefix.lower()
    written: dict[str, list[_Written]] = {}
    for case in [c for c in CASES if c.code[:2] == prefix]:
        written.setdefault(case.code, []).append(_write_case(s, case, folder))
    if not written:
        return written, []
    failing, fixing = f"sagespec validate {folder}/", f"sagespec validate {folder}-fixed/"
    code = 0 if prefix.startswith("W") else 2 if prefix == "E0" else 1  # warnings only; E0001 is exit 2
    text, _ = s.output(failing, expect=code)
    fixed_text, _ = s.output(fixing, expect=0)
    found = _findings(text)
    for w in [w for ws in written.values() for w in ws]:
        w.blocks = [f for f in found if f.startswith(f"{w.path}:") or f"used by {w.path}:" in f]
        if not any(f"[{w.case.code}]" in f for f in w.blocks):
            raise RuntimeError(f"{w.path} was to show {w.case.code}; `{failing}` said:\n" + "\n".join(w.blocks))
    both = console_block([(failing, text, code), (fixing, fixed_text, 0)]).replace("```\n```console\n", "")
    intro = [
        f"The examples of this stage were validated in one run, `{failing}`, and their fixes in another, "
        f"`{fixing}`; each code below shows the lines about its file.",
        "",
        '??? example "The two runs"',
        "\n".join(("    " + line) if line else "" for line in both.splitlines()),
        "",
    ]
    return written, intro


def _run(s: Session, run: Run) -> str:
    """Run a Run's commands (and its fix's); its entry's markdown."""
    where = run.session() if run.session else s
    if run.aws and "AWS_ENDPOINT_URL" not in where.env:
        where.aws_server({})  # from here on, this session's AWS is moto's server
    if run.before:
        run.before(where)
    block = run_console(where, run.commands, run.expect, run.cwd, run.shell)
    if f"[{run.code}]" not in block:
        raise RuntimeError(f"{run.commands[-1]} was to show {run.code}:\n{block}")
    entry = [run.detail, run.lead, block, f"**Fix.** {run.fix}"]
    if run.fixed:
        entry.append(run_console(where, run.fixed, run.fixed_expect, run.cwd, run.shell))
    return "\n\n".join(part for part in entry if part)


def stage(s: Session, prefix: str) -> None:
    """Write the section of one stage: its heading, its examples run, and every code's entry in
    the catalogue's order (the stage's Runs run in the order RUNS lists them)."""
    parts = [f"## {prefix}: {TITLES_BY_STAGE[prefix]} {{#{prefix.lower()}}}", STAGE_INTROS[prefix]]
    if prefix == "E1":
        s.write("pipelines/templates/classifier.yaml", TEMPLATE)
        parts += [f'```yaml title="pipelines/templates/classifier.yaml"\n{TEMPLATE.rstrip()}\n```']
        parts += [f'```yaml title="the spec that uses it"\n{USE.rstrip()}\n```']
    written, intro = _validate_cases(s, prefix)
    parts += intro
    ran: dict[str, list[str]] = {}
    for run in [r for r in RUNS if r.code[:2] == prefix]:
        ran.setdefault(run.code, []).append(_run(s, run))
    not_run = {n.code: n for n in NOT_RUN if n.code[:2] == prefix}
    for code in CODES_BY_STAGE[prefix]:
        parts.append(f"### {code}: {short(code)} {{#{code.lower()}}}")
        if RULES[code] != short(code):
            parts.append(f"{RULES[code][0].upper()}{RULES[code][1:]}.")
        for w in written.get(code, []):
            parts += [w.case.detail, w.shown, f"`sagespec validate {prefix.lower()}/` reported:", fenced("\n".join(w.blocks))]
            parts += [f"**Fix.** {w.case.fix}", w.fix_shown]
        parts += ran.get(code, [])
        if code in not_run:
            parts += [f"**Not run here.** {not_run[code].why}", not_run[code].detail]
    out("\n\n".join(part.rstrip() for part in parts if part))
