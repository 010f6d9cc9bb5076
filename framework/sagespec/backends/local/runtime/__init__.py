"""Programs that run inside a local job or endpoint (`python -m sagespec.backends.local.runtime.X`):
the local equivalents of SageMaker's containers. Only they import ML frameworks."""
