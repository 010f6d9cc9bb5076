"""A model version's lineage on SageMaker, in SageMaker ML Lineage Tracking ("Amazon SageMaker ML
Lineage Tracking", "Lineage Tracking Entities" in the Developer Guide).

- The version is an artifact of type ModelPackage whose source is its ARN (the entity SageMaker
  creates for a version a pipeline registers has that shape; one that exists is used).
- What went into it: data, code and the model file are artifacts (DataSet, Code, Model) that
  ContributedTo it; the pipeline execution and the training job are actions (PipelineExecution,
  TrainingJob) that ContributedTo it; its evaluation is a Metrics artifact AssociatedWith it.
- An endpoint it was deployed to is a context (Endpoint) the version ContributedTo.

Every entity sagespec creates carries its lineage kind, digest and details in Properties
(`sagespec:kind`, `sagespec:sha256`, `sagespec:detail`, `sagespec:order`); an entity of the same
source is found (List* by SourceUri) and reused, so one dataset is one artifact for every version
trained on it. Reading goes through QueryLineage from the version's artifact, one level each way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from sagespec.aws.sessions import aws_errors
from sagespec.backends.records import LineageEntry

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.literals import AssociationEdgeTypeType
    from mypy_boto3_sagemaker.type_defs import VertexTypeDef

# lineage kind -> (entity, its type, how it relates to the version: the version is the destination,
# except for endpoints, which the version contributed to)
ENTITIES: dict[str, tuple[str, str, AssociationEdgeTypeType]] = {
    "dataset": ("artifact", "DataSet", "ContributedTo"),
    "code": ("artifact", "Code", "ContributedTo"),
    "model": ("artifact", "Model", "ContributedTo"),
    "metrics": ("artifact", "Metrics", "AssociatedWith"),
    "execution": ("action", "PipelineExecution", "ContributedTo"),
    "training_job": ("action", "TrainingJob", "ContributedTo"),
    "endpoint": ("context", "Endpoint", "ContributedTo"),
}
VERSION_TYPE = "ModelPackage"
PROPERTY_VALUE_LENGTH = 2500  # LineageEntityParameters: values up to 2,500 characters


def _name(kind: str, uri: str) -> str:
    # Action and context names: 1-120 letters, digits and hyphens; one per source.
    return f"sagespec-{kind.replace('_', '-')}-{hashlib.sha256(uri.encode()).hexdigest()[:40]}"


class Lineage:
    def __init__(self, sm: SageMakerClient):
        self.sm = sm

    def _find(self, entity: str, uri: str, entity_type: str) -> str | None:
        lists: dict[str, tuple[Literal["list_artifacts", "list_actions", "list_contexts"], str, str, str]] = {
            "artifact": ("list_artifacts", "ArtifactSummaries", "ArtifactArn", "ArtifactType"),
            "action": ("list_actions", "ActionSummaries", "ActionArn", "ActionType"),
            "context": ("list_contexts", "ContextSummaries", "ContextArn", "ContextType"),
        }
        operation, listed, arn_key, type_key = lists[entity]
        with aws_errors(f"looking up the lineage {entity} of {uri}"):
            pages: Iterable[Mapping[str, Any]] = self.sm.get_paginator(operation).paginate(SourceUri=uri)
            for page in pages:
                for summary in page[listed]:
                    if summary.get(type_key) == entity_type:
                        arn: str = summary[arn_key]
                        return arn
        return None

    def _entity(self, entity: str, entity_type: str, uri: str, properties: dict[str, str]) -> str:
        found = self._find(entity, uri, entity_type)
        if found:
            return found
        with aws_errors(f"creating the lineage {entity} of {uri}"):
            if entity == "artifact":
                return self.sm.create_artifact(Source={"SourceUri": uri}, ArtifactType=entity_type, Properties=properties)["ArtifactArn"]
            if entity == "action":
                return self.sm.create_action(
                    ActionName=_name(properties["sagespec:kind"], uri),
                    Source={"SourceUri": uri},
                    ActionType=entity_type,
                    Properties=properties,
                )["ActionArn"]
            return self.sm.create_context(
                ContextName=_name(properties["sagespec:kind"], uri),
                Source={"SourceUri": uri},
                ContextType=entity_type,
                Properties=properties,
            )["ContextArn"]

    def version(self, package_arn: str) -> str:
        return self._entity("artifact", VERSION_TYPE, package_arn, {})

    def record(self, package_arn: str, entries: list[LineageEntry], first: int = 0) -> None:
        """Record `entries` as the version's lineage (their order kept in `sagespec:order`)."""
        version = self.version(package_arn)
        for order, entry in enumerate(entries, start=first):
            if entry.kind not in ENTITIES or not entry.uri:
                continue
            entity, entity_type, association = ENTITIES[entry.kind]
            properties = {"sagespec:kind": entry.kind, "sagespec:order": str(order)}
            if entry.sha256:
                properties["sagespec:sha256"] = entry.sha256
            if entry.detail:
                properties["sagespec:detail"] = json.dumps(entry.detail, separators=(",", ":"))[:PROPERTY_VALUE_LENGTH]
            arn = self._entity(entity, entity_type, entry.uri, properties)
            source, destination = (version, arn) if entry.kind == "endpoint" else (arn, version)
            if entry.kind == "endpoint" and self._associated(source, destination):
                continue  # deployed there before (a canary, then its finalize; a rollback)
            with aws_errors(f"associating {entry.uri} with {package_arn}"):
                self.sm.add_association(SourceArn=source, DestinationArn=destination, AssociationType=association)

    def _associated(self, source: str, destination: str) -> bool:
        with aws_errors(f"listing the associations of {source}"):
            return bool(self.sm.list_associations(SourceArn=source, DestinationArn=destination)["AssociationSummaries"])

    def read(self, package_arn: str) -> list[LineageEntry]:
        version = self._find("artifact", package_arn, VERSION_TYPE)
        if version is None:
            return []
        vertices: list[VertexTypeDef] = []
        for direction in ("Ascendants", "Descendants"):
            with aws_errors(f"querying the lineage of {package_arn}"):
                request: dict[str, Any] = {"StartArns": [version], "Direction": direction, "IncludeEdges": False, "MaxDepth": 1}
                while True:
                    page = self.sm.query_lineage(**request)
                    vertices += [v for v in page.get("Vertices", []) if v["Arn"] != version]
                    if not page.get("NextToken"):
                        break
                    request["NextToken"] = page["NextToken"]
        entries: list[tuple[int, LineageEntry]] = []
        for vertex in vertices:
            described = self._describe(vertex)
            properties = dict(described.get("Properties") or {})
            kind = properties.pop("sagespec:kind", None) or (vertex.get("LineageType") or vertex.get("Type", "")).lower()
            order = int(properties.pop("sagespec:order", "1000000"))
            detail = json.loads(properties.pop("sagespec:detail", "{}") or "{}")
            entries.append(
                (order, LineageEntry(kind, described.get("Source", {}).get("SourceUri"), properties.pop("sagespec:sha256", None), detail))
            )
        return [entry for _, entry in sorted(entries, key=lambda e: (e[0], e[1].kind, e[1].uri or ""))]

    def _describe(self, vertex: VertexTypeDef) -> Mapping[str, Any]:
        arn, kind = vertex["Arn"], vertex.get("Type")
        with aws_errors(f"describing lineage entity {arn}"):
            if kind == "Action":
                return self.sm.describe_action(ActionName=arn)
            if kind == "Context":
                return self.sm.describe_context(ContextName=arn)
            return self.sm.describe_artifact(ArtifactArn=arn)
