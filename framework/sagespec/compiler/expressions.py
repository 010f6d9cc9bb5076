"""Spec values -> SageMaker SDK expressions.

`${params.X}` becomes the pipeline's Parameter, `${steps.S.outputs.O}` a step property,
`${execution.V}` an ExecutionVariable, and a string mixing text and references a `Join`.
A property-file operand ({step, property_file, json_path}) becomes `JsonGet`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sagespec.compiler.sdk import SdkObject, sdk_class
from sagespec.spec import references as syntax

_INDEX = re.compile(r"([A-Za-z][A-Za-z0-9_]*)((?:\[\d+\])*)")


class Expressions:
    def __init__(
        self,
        parameters: dict[str, SdkObject],
        steps: dict[str, SdkObject],
        property_files: dict[tuple[str, str], SdkObject],
        declared_outputs: dict[tuple[str, str], SdkObject],
        sdk: str = "v2",
    ):
        self._cls: Callable[[str], SdkObject] = lambda name: sdk_class(sdk, name)
        self.parameters = parameters  # name -> Parameter
        self.steps = steps  # name -> built SDK step
        self.property_files = property_files  # (step, name) -> PropertyFile
        self.declared_outputs = declared_outputs  # (step, name) -> LambdaOutput or CallbackOutput
        self.best_models: dict[str, SdkObject] = {}  # tuning step name -> its best training job's model.tar.gz URI

    def mapping(self, values: dict[str, Any] | None) -> dict[str, Any] | None:
        """Each value of a mapping (a container's environment) as value() makes it."""
        return None if values is None else {key: self.value(item) for key, item in values.items()}

    def nested(self, value: Any) -> Any:
        """Every string of a nested structure (an EMR cluster config, a Spark configuration) as value() makes it."""
        if isinstance(value, dict):
            return {key: self.nested(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.nested(item) for item in value]
        return self.value(value)

    def value(self, value: Any) -> Any:
        """A literal stays itself; strings with references become SDK expressions."""
        if isinstance(value, dict) and {"step", "property_file", "json_path"} <= set(value):
            return self.json_get(value)
        if not isinstance(value, str) or "${" not in value:
            return value
        parts, problems = syntax.parse(value)
        if problems:  # validation guarantees none; keep the text rather than guess
            return value
        converted = [self.reference(p) if isinstance(p, syntax.Reference) else p for p in parts]
        if len(converted) == 1:
            return converted[0]
        return self._cls("Join")(on="", values=converted)

    def reference(self, ref: syntax.Reference) -> SdkObject:
        if ref.form == "params":
            return self.parameters[ref.name]
        if ref.form == "execution":
            return self._cls("ExecutionVariable")(ref.name)
        step = self.steps[ref.name]
        if ref.form == "best_model_artifacts":
            return self.best_models[ref.name]
        if ref.form == "model_artifacts":
            return step.properties.ModelArtifacts.S3ModelArtifacts
        if ref.form == "monitoring_analysis_config_uri":  # uploaded as the check was built: a literal
            return step.clarify_check_config.monitoring_analysis_config_uri
        if ref.form == "outputs":
            if (ref.name, ref.attribute) in self.declared_outputs:
                # The step's property, not the LambdaOutput/CallbackOutput itself: the SDK serializes
                # those only as a whole value, and inside a Join they would be a bound method.
                return step.properties.Outputs[ref.attribute]
            return step.properties.ProcessingOutputConfig.Outputs[ref.attribute].S3Output.S3Uri
        if ref.attribute is None:  # validation gives every property reference its path
            raise ValueError(f"{ref.text} names no property")
        return self.property_path(step.properties, ref.attribute)

    @staticmethod
    def property_path(properties: SdkObject, path: str) -> SdkObject:
        node = properties
        for segment in path.split("."):
            m = _INDEX.fullmatch(segment)
            if m is None:  # validation keeps property paths to names and [indexes]
                raise ValueError(f"cannot read property path {path!r} at {segment!r}")
            node = getattr(node, m.group(1))
            for index in re.findall(r"\[(\d+)\]", m.group(2)):
                node = node[int(index)]
        return node

    def json_get(self, operand: dict[str, Any]) -> SdkObject:
        step = self.steps[operand["step"]]
        return self._cls("JsonGet")(
            step_name=step.name,
            property_file=self.property_files[(operand["step"], operand["property_file"])],
            json_path=operand["json_path"],
        )
