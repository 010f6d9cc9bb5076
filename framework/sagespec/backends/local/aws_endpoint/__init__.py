"""The local AWS endpoint: what a job's own AWS calls reach during a local run (S3 and SageMaker).

One HTTP server on 127.0.0.1 per run (server.py) accepts requests signed with the credentials it
issued to each job (sigv4.py) and answers them as the job's role: S3 over the local object store
(s3.py, the actions of s3_actions.py), SageMaker over the local control plane (sagemaker_api.py).
"""
