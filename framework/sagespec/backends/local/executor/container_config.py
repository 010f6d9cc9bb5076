"""The JSON files SageMaker writes into a job's container before it starts, written into the
job's work folder (Docker mounts them, the namespace mode binds them; the variables mode has no
/opt/ml to show them at).

Training ("How Amazon SageMaker Provides Training Information"): /opt/ml/input/config holds
hyperparameters.json (every value a string), inputdataconfig.json and resourceconfig.json.
Processing ("How Amazon SageMaker Processing Configures Input and Output For Your Processing
Container"): /opt/ml/config holds processingjobconfig.json (the job's request) and resourceconfig.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HOST = "algo-1"
TRAINING_CONFIG = "/opt/ml/input/config"
PROCESSING_CONFIG = "/opt/ml/config"


def training(work: Path, args: dict[str, Any]) -> Path:
    """Writes the training job's /opt/ml/input/config under `work`; returns that folder."""
    config = work / "config"
    config.mkdir(parents=True, exist_ok=True)
    hyperparameters = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (args.get("HyperParameters") or {}).items()}
    data_config = {
        c["ChannelName"]: {
            "TrainingInputMode": c.get("InputMode") or args.get("AlgorithmSpecification", {}).get("TrainingInputMode", "File"),
            "S3DistributionType": c.get("DataSource", {}).get("S3DataSource", {}).get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": c.get("RecordWrapperType", "None"),
            **({"ContentType": c["ContentType"]} if c.get("ContentType") else {}),
        }
        for c in args.get("InputDataConfig", [])
    }
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters), encoding="utf-8")
    (config / "inputdataconfig.json").write_text(json.dumps(data_config), encoding="utf-8")
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0"}), encoding="utf-8"
    )
    return config


def processing(work: Path, args: dict[str, Any], job_name: str) -> Path:
    """Writes the processing job's /opt/ml/config under `work`; returns that folder."""
    config = work / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "processingjobconfig.json").write_text(json.dumps({"ProcessingJobName": job_name, **args}, default=str), encoding="utf-8")
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": HOST, "hosts": [HOST]}), encoding="utf-8")
    return config
