"""Preprocess the California housing data (runs in the SageMaker scikit-learn processing container).

Reads cal_housing.tgz (or an extracted cal_housing.data / .csv with the same nine columns) from
the input folder, derives scikit-learn's feature layout, splits train/validation/test with a
fixed seed, fits a StandardScaler on the training split only, and writes:

    <train>/train.csv, <validation>/validation.csv, <test>/test.csv   target first, then features
    <scaler>/scaler.json                                               mean and scale per feature

Features stay unscaled in the CSVs: the scaler becomes part of the model graph (train.py), so an
endpoint takes the raw features a user has.

Paths (argument, else environment variable, else the SageMaker container path):
    --input-dir       SM_PROCESSING_INPUT_RAW          /opt/ml/processing/input
    --train-dir       SM_PROCESSING_OUTPUT_TRAIN       /opt/ml/processing/train
    --validation-dir  SM_PROCESSING_OUTPUT_VALIDATION  /opt/ml/processing/validation
    --test-dir        SM_PROCESSING_OUTPUT_TEST        /opt/ml/processing/test
    --scaler-dir      SM_PROCESSING_OUTPUT_SCALER      /opt/ml/processing/scaler
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

RAW_COLUMNS = [
    "longitude",
    "latitude",
    "housingMedianAge",
    "totalRooms",
    "totalBedrooms",
    "population",
    "households",
    "medianIncome",
    "medianHouseValue",
]
FEATURES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
TARGET = "MedHouseVal"
TARGET_SCALE = 100_000.0  # the target is in units of $100k, as in scikit-learn's copy


class InputError(Exception):
    """Malformed input: reported as one line and a non-zero exit, never a traceback."""


def _env_path(variable: str, default: str) -> str:
    return os.environ.get(variable, default)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input-dir", default=_env_path("SM_PROCESSING_INPUT_RAW", "/opt/ml/processing/input"))
    p.add_argument("--train-dir", default=_env_path("SM_PROCESSING_OUTPUT_TRAIN", "/opt/ml/processing/train"))
    p.add_argument("--validation-dir", default=_env_path("SM_PROCESSING_OUTPUT_VALIDATION", "/opt/ml/processing/validation"))
    p.add_argument("--test-dir", default=_env_path("SM_PROCESSING_OUTPUT_TEST", "/opt/ml/processing/test"))
    p.add_argument("--scaler-dir", default=_env_path("SM_PROCESSING_OUTPUT_SCALER", "/opt/ml/processing/scaler"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--validation-ratio", type=float, default=0.15)
    p.add_argument("--test-ratio", type=float, default=0.15)
    p.add_argument("--max-rows", type=int, default=0, help="Use only the first N rows (0 = all); for quick runs.")
    args = p.parse_args(argv)
    if not (0 < args.validation_ratio < 1 and 0 < args.test_ratio < 1 and args.validation_ratio + args.test_ratio < 1):
        p.error("--validation-ratio and --test-ratio must be in (0, 1) and sum to less than 1")
    return args


def find_raw_text(input_dir: Path) -> tuple[str, str]:
    """(text, description) of the raw data found in input_dir."""
    if not input_dir.is_dir():
        raise InputError(f"input folder {input_dir} does not exist")
    candidates = sorted(p for p in input_dir.rglob("*") if p.is_file())
    for path in candidates:
        if path.name.endswith((".tgz", ".tar.gz")):
            try:
                with tarfile.open(path, "r:gz") as archive:
                    member = next((m for m in archive.getmembers() if m.isfile() and m.name.endswith("cal_housing.data")), None)
                    if member is None:
                        raise InputError(f"{path.name} holds no cal_housing.data")
                    return archive.extractfile(member).read().decode("utf-8"), f"{path.name}:{member.name}"
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise InputError(f"{path.name} is not a readable .tgz archive ({exc})") from None
    for path in candidates:
        if path.suffix in (".data", ".csv"):
            return path.read_text(encoding="utf-8"), path.name
    raise InputError(f"no cal_housing.tgz, .data or .csv file in {input_dir}")


def parse_rows(text: str, source: str) -> np.ndarray:
    rows = []
    for number, line in enumerate(io.StringIO(text), start=1):
        line = line.strip()
        if not line:
            continue
        cells = line.split(",")
        if number == 1 and cells[0].strip().lower() == "longitude":
            continue  # a header row
        if len(cells) != len(RAW_COLUMNS):
            raise InputError(f"{source} line {number}: expected {len(RAW_COLUMNS)} columns ({', '.join(RAW_COLUMNS)}), found {len(cells)}")
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
    return np.asarray(rows, dtype=np.float64)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def derive_features(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    col = {name: raw[:, i] for i, name in enumerate(RAW_COLUMNS)}
    households = col["households"]
    if np.any(households <= 0):
        line = int(np.argmax(households <= 0)) + 1
        raise InputError(f"data row {line}: households must be positive to derive per-household features")
    features = np.column_stack(
        [
            col["medianIncome"],
            col["housingMedianAge"],
            col["totalRooms"] / households,
            col["totalBedrooms"] / households,
            col["population"],
            col["population"] / households,
            col["latitude"],
            col["longitude"],
        ]
    )
    target = col["medianHouseValue"] / TARGET_SCALE
    return features, target


def split(n: int, seed: int, validation_ratio: float, test_ratio: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_ratio)))
    n_validation = max(1, int(round(n * validation_ratio)))
    if n - n_test - n_validation < 1:
        raise InputError(f"{n} rows are too few to split into train/validation/test")
    return order[n_test + n_validation :], order[n_test : n_test + n_validation], order[:n_test]


def write_split(folder: Path, name: str, features: np.ndarray, target: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table = np.column_stack([target, features])
    np.savetxt(path, table, delimiter=",", fmt="%.10g", header=",".join([TARGET, *FEATURES]), comments="")
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        text, source = find_raw_text(Path(args.input_dir))
        raw = parse_rows(text, source)
        if args.max_rows:
            raw = raw[: args.max_rows]
        features, target = derive_features(raw)
        train, validation, test = split(len(raw), args.seed, args.validation_ratio, args.test_ratio)
    except InputError as exc:
        print(f"preprocess: error: {exc}", file=sys.stderr)
        return 1
    scaler = StandardScaler().fit(features[train])
    for folder, name, idx in (
        (args.train_dir, "train", train),
        (args.validation_dir, "validation", validation),
        (args.test_dir, "test", test),
    ):
        write_split(Path(folder), name, features[idx], target[idx])
    scaler_dir = Path(args.scaler_dir)
    scaler_dir.mkdir(parents=True, exist_ok=True)
    (scaler_dir / "scaler.json").write_text(
        json.dumps(
            {
                "features": FEATURES,
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
    print(f"preprocess: {len(raw)} rows from {source} -> train {len(train)}, validation {len(validation)}, test {len(test)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
