"""SDK v2's repack job, run here: `python -m sagespec.backends.local.runtime.repack`.

A model served with its own inference code on a trained artifact is repacked before the model
step by a training job on the scikit-learn image (sagemaker.workflow._utils._RepackModelStep),
whose program is the SDK's `_repack_script_launcher.sh` -> `_repack_model.py`. That script reads
and writes the container's paths (/opt/ml/input/data/training, /opt/ml/code, /opt/ml/model),
so here the same work is done on the job's own folders, as its behaviour is:

- the model archive (the `model_archive` hyperparameter, an S3 URI) arrives in the `training`
  channel under its file name; its contents are unpacked into the model folder;
- the code goes under `code/` of the model: the whole submitted code folder, replacing the
  archive's own `code/`, when the step has a source_dir (the script tests the value only for
  emptiness); else the inference script alone, beside what the archive's `code/` held;
- each of the space-separated `dependencies` goes under `code/lib/`; a folder among them makes
  `code/lib/` a copy of the whole code folder (the SDK's upload flattened the folder) and ends
  the list;
- the training job then packs the model folder as model.tar.gz, as for any job.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tarfile
from pathlib import Path

# What the launcher's hyperparameters hold when the SDK had no value (json null, str(None)).
_NONE = ("", "null", "None")


def repack(
    model_archive: Path, code: Path, model_dir: Path, inference_script: str, source_dir: str | None, dependencies: str | None
) -> None:
    with tarfile.open(model_archive, "r:gz") as tar:
        tar.extractall(model_dir, filter="data")
    target = model_dir / "code"
    if source_dir:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(code, target)
    else:
        target.mkdir(exist_ok=True)
        shutil.copy2(code / inference_script, target / inference_script)
    lib = target / "lib"
    for dependency in (dependencies or "").split():
        lib.mkdir(exist_ok=True)
        if (code / dependency).is_file():
            shutil.copy2(code / dependency, lib)
            continue
        shutil.rmtree(lib)
        shutil.copytree(code, lib)
        break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--inference_script", "--model_archive", "--source_dir", "--dependencies"):
        parser.add_argument(name, default=None)
    args, _ = parser.parse_known_args(argv)
    optional = {k: (None if v in _NONE else v) for k, v in vars(args).items()}
    channel = Path(os.environ["SM_CHANNEL_TRAINING"])
    archive = channel / str(optional["model_archive"]).rstrip("/").split("/")[-1]
    if not archive.is_file():  # an archive under another name: the channel's one file
        archive = next(p for p in sorted(channel.rglob("*")) if p.is_file())
    repack(
        archive,
        Path.cwd(),
        Path(os.environ["SM_MODEL_DIR"]),
        str(optional["inference_script"]),
        optional["source_dir"],
        optional["dependencies"],
    )
    print(f"repacked {archive.name} with {'the code folder' if optional['source_dir'] else optional['inference_script']} under code/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
