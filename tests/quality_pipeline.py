"""A pipeline with a data quality and a model quality check whose baselines a register step
records (the compile and the local tests of quality checks share it)."""

from helpers import data_science_spec

BUCKET = "s3://sagespec-ds-experiments-111111111111/quality"
STEPS = """- name: DataQuality
  kind: quality_check
  check: data_quality
  dataset: ${params.TrainData}
  dataset_format: {csv: {header: false}}
  instance_type: ml.m5.xlarge
  skip_check: ${params.FirstRun}
  register_new_baseline: ${params.FirstRun}
  model_package_group: california-housing-experiments
- name: ModelQuality
  kind: quality_check
  check: model_quality
  dataset: ${params.Scored}
  dataset_format: {csv: {header: false}}
  instance_type: ml.m5.xlarge
  problem_type: Regression
  ground_truth_attribute: _c0
  inference_attribute: _c1
  skip_check: ${params.FirstRun}
  register_new_baseline: ${params.FirstRun}
  model_package_group: california-housing-experiments
- name: Register
  kind: register_model
  model:
    image_uri: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
    model_data: s3://sagespec-ds-experiments-111111111111/quality/model.tar.gz
  model_package_group: california-housing-experiments
  content_types: [text/csv]
  response_types: [text/csv]
  inference_instances: [ml.m5.large]
  quality_checks: [DataQuality, ModelQuality]
"""
SPEC = data_science_spec(
    "quality", "quality", {"TrainData": f"{BUCKET}/train/train.csv", "Scored": f"{BUCKET}/scored/scored.csv"}, STEPS
).replace("parameters:\n", "parameters:\n  FirstRun:\n    type: Boolean\n    default: true\n")
