"""The local executor: runs a pipeline *definition* (the JSON SageMaker would receive) on this machine."""
