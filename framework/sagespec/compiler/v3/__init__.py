"""The SDK v3 backend: the same validated spec, built with sagemaker-core/-train/-serve/-mlops.

Its builders register for "v3" in compiler.builders.BUILDERS (jobs: processing, training;
models: register, create); the orchestration steps (condition, fail, lambda, callback, EMR),
transform and quality checks share v2's builders through compiler.sdk's class locations. What
it does not build yet is reported up front (unsupported.py), and its uploads get content-hash
keys (session.py).
"""
