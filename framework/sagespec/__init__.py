"""sagespec: declarative YAML pipeline specs for Amazon SageMaker."""

__version__ = "0.1.0"
