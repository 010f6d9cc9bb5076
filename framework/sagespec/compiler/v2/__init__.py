"""The SDK v2 backend (`sagemaker.workflow`)."""
