"""The SageMaker backend: every service of backends.protocols through boto3."""
