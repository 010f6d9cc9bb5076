"""Preprocess a tabular dataset (runs in the SageMaker scikit-learn processing container).

Reads one table from the input folder: a .csv or .data file, or the first such file inside a
.tgz/.tar.gz archive there. A first row that is not all numbers is the header; a file without
one needs --columns. The target and each feature are a column or an arithmetic expression of
columns (NAME=EXPRESSION, e.g. `AveRooms=totalRooms/households`; + - * / **, parentheses,
numbers and log, log1p, exp, sqrt, abs). The rows are split train/validation/test with a fixed
seed, a StandardScaler is fitted on the training split only, and it writes:

    <train>/train.csv, <validation>/validation.csv, <test>/test.csv   target first, then features
    <scaler>/scaler.json                                               features, mean and scale;
                       the input columns the features are computed from, and each feature's expression
    <scaler>/preprocess.py  (with --model-computes-features) this file: its featurize() computes the
                       features from raw records, for a model that carries it
    <batch>/test.csv   (only with a batch output) the test split without its header row, for a
                       batch transform: SageMaker sends every line to the model as a record

Features stay unscaled in the CSVs: a model that wants them standardised takes scaler.json, so
an endpoint takes the features a user has. With --model-computes-features (a model that holds the
expressions itself, as the TensorFlow template's SavedModel does), the test split and the batch
file carry the input columns instead of the features: what a client sends such an endpoint is a
raw record, and the evaluation and the endpoint test send exactly that.

Paths (argument, else environment variable, else the SageMaker container path):
    --input-dir       SM_PROCESSING_INPUT_RAW          /opt/ml/processing/input
    --train-dir       SM_PROCESSING_OUTPUT_TRAIN       /opt/ml/processing/train
    --validation-dir  SM_PROCESSING_OUTPUT_VALIDATION  /opt/ml/processing/validation
    --test-dir        SM_PROCESSING_OUTPUT_TEST        /opt/ml/processing/test
    --scaler-dir      SM_PROCESSING_OUTPUT_SCALER      /opt/ml/processing/scaler
    --batch-dir       SM_PROCESSING_OUTPUT_BATCH       (none: not written)
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import re
import sys
import tarfile
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

TABLE_SUFFIXES = (".csv", ".data")
FUNCTIONS = {"log": np.log, "log1p": np.log1p, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}
OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class InputError(Exception):
    """Malformed input or arguments: reported as one line and a non-zero exit, never a traceback."""


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input-dir", default=env("SM_PROCESSING_INPUT_RAW", "/opt/ml/processing/input"))
    p.add_argument("--train-dir", default=env("SM_PROCESSING_OUTPUT_TRAIN", "/opt/ml/processing/train"))
    p.add_argument("--validation-dir", default=env("SM_PROCESSING_OUTPUT_VALIDATION", "/opt/ml/processing/validation"))
    p.add_argument("--test-dir", default=env("SM_PROCESSING_OUTPUT_TEST", "/opt/ml/processing/test"))
    p.add_argument("--scaler-dir", default=env("SM_PROCESSING_OUTPUT_SCALER", "/opt/ml/processing/scaler"))
    p.add_argument("--batch-dir", default=env("SM_PROCESSING_OUTPUT_BATCH"))
    p.add_argument("--columns", nargs="*", default=[], help="Column names of a file without a header row.")
    p.add_argument("--target", required=True, help="The target: a column, or NAME=EXPRESSION of columns.")
    p.add_argument("--features", nargs="*", default=[], help="Features (a column or NAME=EXPRESSION each); default: every other column.")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--validation-ratio", type=float, default=0.15)
    p.add_argument("--test-ratio", type=float, default=0.15)
    p.add_argument("--max-rows", type=int, default=0, help="Use only the first N rows (0 = all); for quick runs.")
    p.add_argument(
        "--model-computes-features",
        action="store_true",
        help="The test split and batch file carry the input columns (the model computes the features from them).",
    )
    args = p.parse_args(argv)
    if not (0 < args.validation_ratio < 1 and 0 < args.test_ratio < 1 and args.validation_ratio + args.test_ratio < 1):
        p.error("--validation-ratio and --test-ratio must be in (0, 1) and sum to less than 1")
    return args


def find_table(input_dir: Path) -> tuple[str, str]:
    """(text, description) of the table found in input_dir."""
    if not input_dir.is_dir():
        raise InputError(f"input folder {input_dir} does not exist")
    candidates = sorted(p for p in input_dir.rglob("*") if p.is_file())
    for path in candidates:
        if path.name.endswith((".tgz", ".tar.gz")):
            try:
                with tarfile.open(path, "r:gz") as archive:
                    member = next((m for m in archive.getmembers() if m.isfile() and m.name.endswith(TABLE_SUFFIXES)), None)
                    if member is None:
                        raise InputError(f"{path.name} holds no .csv or .data file")
                    return archive.extractfile(member).read().decode("utf-8"), f"{path.name}:{member.name}"
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise InputError(f"{path.name} is not a readable .tgz archive ({exc})") from None
            except UnicodeDecodeError:
                raise InputError(f"{path.name}:{member.name} is not UTF-8 text") from None
    for path in candidates:
        if path.suffix in TABLE_SUFFIXES:
            try:
                return path.read_text(encoding="utf-8"), path.name
            except UnicodeDecodeError:
                raise InputError(f"{path.name} is not UTF-8 text") from None
    raise InputError(f"no .csv or .data file (or .tgz holding one) in {input_dir}")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_table(text: str, source: str, columns: list[str]) -> tuple[list[str], np.ndarray]:
    """(column names, rows as float64) of a comma-separated table."""
    lines = [(n, line.strip()) for n, line in enumerate(io.StringIO(text), start=1) if line.strip()]
    if not lines:
        raise InputError(f"{source} holds no data rows")
    first = [c.strip().strip('"') for c in lines[0][1].split(",")]
    if not all(_is_number(c) for c in first):
        header, lines = first, lines[1:]
        if columns and columns != header:
            raise InputError(f"{source} has a header ({', '.join(header)}) that differs from --columns")
    elif columns:
        header = columns
    else:
        raise InputError(f"{source} has no header row: name its columns with --columns")
    for name in header:
        if not _NAME.match(name):
            raise InputError(f"{source}: column name {name!r} is not an identifier (letters, digits, underscores)")
    rows = []
    for number, line in lines:
        cells = line.split(",")
        if len(cells) != len(header):
            raise InputError(f"{source} line {number}: expected {len(header)} columns ({', '.join(header)}), found {len(cells)}")
        try:
            values = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise InputError(f"{source} line {number}: {bad.strip()!r} is not a number") from None
        if not np.all(np.isfinite(values)):
            raise InputError(f"{source} line {number}: values must be finite numbers")
        rows.append(values)
    if not rows:
        raise InputError(f"{source} holds no data rows")
    return header, np.asarray(rows, dtype=np.float64)


def parse_definition(text: str) -> tuple[str, str]:
    """NAME=EXPRESSION (or a bare column name) -> (name, expression)."""
    name, equals, expression = text.partition("=")
    name, expression = name.strip(), (expression if equals else name).strip()
    if not _NAME.match(name):
        raise InputError(f"{text!r}: the name before '=' must be an identifier")
    return name, expression


def evaluate(expression: str, table: dict[str, np.ndarray]) -> np.ndarray:
    """An arithmetic expression of columns, evaluated on whole columns (no Python code runs)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise InputError(f"{expression!r} is not an arithmetic expression") from None

    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in table:
                raise InputError(f"{expression!r} names column {node.id!r}, which the table does not have ({', '.join(table)})")
            return table[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and len(node.args) == 1:
            return FUNCTIONS[node.func.id](value(node.args[0]))
        raise InputError(f"{expression!r}: only columns, numbers, + - * / **, and {', '.join(FUNCTIONS)} are allowed")

    with np.errstate(all="ignore"):
        result = value(tree)
    return np.broadcast_to(np.asarray(result, dtype=np.float64), next(iter(table.values())).shape)


def featurize(records: np.ndarray, inputs: list[str], definitions: list[list[str]]) -> np.ndarray:
    """Features [n, definitions] from raw records [n, inputs], as main() computes the training
    features of a model that computes its own (from the float32-rounded inputs, in float64).
    A model that carries this file (scaler/preprocess.py, beside scaler.json) calls it to serve
    the raw records a client sends."""
    records = np.asarray(records, dtype=np.float64)
    if records.ndim != 2 or records.shape[1] != len(inputs):
        width = records.shape[1] if records.ndim == 2 else records.size
        raise InputError(f"a record has {width} values; the model takes {len(inputs)}: {', '.join(inputs)}")
    table = {name: records[:, i].astype(np.float32).astype(np.float64) for i, name in enumerate(inputs)}
    return np.column_stack([evaluate(expression, table) for _, expression in definitions])


def feature_definitions(header: list[str], target: str, features: list[str]) -> list[tuple[str, str]]:
    """(name, expression) of each feature; by default every column but the target's."""
    _, target_expression = parse_definition(target)
    return [parse_definition(f) for f in features] or [(c, c) for c in header if c != target_expression]


def input_columns(header: list[str], definitions: list[tuple[str, str]]) -> list[str]:
    """The columns the features are computed from, in the table's order: a raw record's fields."""
    named = {
        node.id for _, expression in definitions for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)
    }
    return [column for column in header if column in named]


def derive(header: list[str], raw: np.ndarray, target: str, features: list[str]) -> tuple[str, list[str], np.ndarray, np.ndarray]:
    """(target name, feature names, features, target) computed from the raw columns."""
    table = {name: raw[:, i] for i, name in enumerate(header)}
    target_name, target_expression = parse_definition(target)
    definitions = feature_definitions(header, target, features)
    names = [name for name, _ in definitions]
    if len(set(names)) != len(names) or target_name in names:
        raise InputError(f"feature and target names must be distinct: {', '.join([target_name, *names])}")
    columns = []
    for name, expression in [(target_name, target_expression), *definitions]:
        column = evaluate(expression, table)
        if not np.all(np.isfinite(column)):
            row = int(np.argmax(~np.isfinite(column))) + 1
            raise InputError(f"{name} = {expression} is not a finite number at data row {row}")
        columns.append(column)
    return target_name, names, np.column_stack(columns[1:]), columns[0]


def split(n: int, seed: int, validation_ratio: float, test_ratio: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_ratio)))
    n_validation = max(1, int(round(n * validation_ratio)))
    if n - n_test - n_validation < 1:
        raise InputError(f"{n} rows are too few to split into train/validation/test")
    return order[n_test + n_validation :], order[n_test : n_test + n_validation], order[:n_test]


def write_split(folder: Path, name: str, header: list[str], features: np.ndarray, target: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    np.savetxt(path, np.column_stack([target, features]), delimiter=",", fmt="%.10g", header=",".join(header), comments="")
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        text, source = find_table(Path(args.input_dir))
        header, raw = read_table(text, source, args.columns)
        if args.max_rows:
            raw = raw[: args.max_rows]
        target_name, names, features, target = derive(header, raw, args.target, args.features)
        if args.model_computes_features:
            # The model gets its inputs as float32 (its signature's type) and computes the features
            # from them: the training features are computed from the same rounded inputs.
            _, _, features, _ = derive(header, raw.astype(np.float32).astype(np.float64), args.target, args.features)
        train, validation, test = split(len(raw), args.seed, args.validation_ratio, args.test_ratio)
    except InputError as exc:
        print(f"preprocess: error: {exc}", file=sys.stderr)
        return 1
    definitions = feature_definitions(header, args.target, args.features)
    inputs = input_columns(header, definitions)
    scaler = StandardScaler().fit(features[train])
    for folder, name, idx in ((args.train_dir, "train", train), (args.validation_dir, "validation", validation)):
        write_split(Path(folder), name, [target_name, *names], features[idx], target[idx])
    # What a client of the model sends: the features, or the input columns for a model that computes them.
    sent_names, sent = (inputs, raw[:, [header.index(c) for c in inputs]]) if args.model_computes_features else (names, features)
    write_split(Path(args.test_dir), "test", [target_name, *sent_names], sent[test], target[test])
    if args.batch_dir:
        batch = Path(args.batch_dir)
        batch.mkdir(parents=True, exist_ok=True)
        np.savetxt(batch / "test.csv", np.column_stack([target[test], sent[test]]), delimiter=",", fmt="%.10g")
    scaler_dir = Path(args.scaler_dir)
    scaler_dir.mkdir(parents=True, exist_ok=True)
    (scaler_dir / "scaler.json").write_text(
        json.dumps(
            {
                "features": names,
                "inputs": inputs,
                "definitions": [[name, expression] for name, expression in definitions],
                "target": target_name,
                "mean": scaler.mean_.tolist(),
                "scale": scaler.scale_.tolist(),
                "fitted_on": "train",
                "rows": {"train": len(train), "validation": len(validation), "test": len(test)},
                "seed": args.seed,
                "source": source,
            },
            indent=2,
        )
    )
    if args.model_computes_features:
        # The code that computed the features goes with them: a model that is not a graph of its
        # own (XGBoost, scikit-learn) carries it and scaler.json into its artifact and serves raw records.
        (scaler_dir / "preprocess.py").write_bytes(Path(__file__).read_bytes())
    print(
        f"preprocess: {len(raw)} rows from {source} -> train {len(train)}, validation {len(validation)}, test {len(test)}; "
        f"target {target_name}, {len(names)} features"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
