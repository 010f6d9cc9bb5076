"""Every target behind one set of interfaces (`protocols`): the embedded local control plane
(`local`) and SageMaker (`sagemaker`). `factory` is the only module that picks one."""
