"""Container images as SageMaker names them: an ECR image URI, and whether AWS publishes it.

SageMaker's own images (framework training, processing and inference containers, built-in
algorithms) live in ECR repositories of AWS accounts that the SageMaker SDK lists in its
image_uri_config data; the data is read as JSON, not imported, so callers stay fast. An image of
the same repository name in any other account is somebody's own image.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagespec.aws import partitions

# "<account>.dkr.ecr.<region>.<partition's DNS suffix>/<repository>[:tag|@digest]" (Amazon ECR
# User Guide, "Pushing a Docker image": the registry URI of a private repository).
_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.(?P<suffix>[a-z0-9.-]+)/(?P<repository>[^:@]+)(?:[:@](?P<tag>.*))?$"
)
# The SDK's image_uri_config files that name the framework and algorithm images sagespec knows.
_CONFIG_FILES = ("sklearn", "xgboost", "tensorflow", "pytorch", "huggingface", "spark")


@dataclass(frozen=True)
class Image:
    account: str
    region: str
    repository: str
    tag: str

    @property
    def published_by_aws(self) -> bool:
        return self.account in sagemaker_registries()


def parse(uri: str) -> Image | None:
    """The parts of an ECR image URI, or None for anything else (a parameter, Docker Hub, ...)."""
    match = _IMAGE.match(uri) if isinstance(uri, str) else None
    if match is None or match["suffix"] not in partitions.dns_suffixes():
        return None
    return Image(match["account"], match["region"], match["repository"], match["tag"] or "")


def sagemaker_repository(uri: str, known: Container[str]) -> str | None:
    """The repository of `uri` when AWS publishes it for SageMaker and it is one of `known`."""
    image = parse(uri)
    return image.repository if image and image.repository in known and image.published_by_aws else None


@functools.cache
def _sdk_config(name: str) -> dict[str, Any] | None:
    """The SDK's image_uri_config/<name>.json (SDK v2's place, then v3's), or None."""
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    for config in (package / "image_uri_config", package / "core" / "image_uri_config"):
        path = config / f"{name}.json"
        if path.is_file():
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    return None


@functools.cache
def sagemaker_registries() -> frozenset[str]:
    """The AWS accounts that publish SageMaker's images, from the SDK's own data."""
    accounts: set[str] = set()
    for name in _CONFIG_FILES:
        config = _sdk_config(name)
        if config is not None:
            _registries(config, accounts)
    return frozenset(accounts)


def framework_image(framework: str, scope: str, version: str, region: str, tag: str) -> str | None:
    """The URI of a framework image AWS publishes in `region` (as `image_uris.retrieve` builds it:
    the SDK's registry account of the region, the partition's ECR host), or None where the SDK's
    data has none."""
    config = (_sdk_config(framework) or {}).get(scope) or {}
    versions = config.get("versions") or {}
    entry = versions.get((config.get("version_aliases") or {}).get(version, version)) or {}
    account = (entry.get("registries") or {}).get(region)
    if not account or not entry.get("repository"):
        return None
    return f"{partitions.of_region(region).ecr_registry(account, region)}/{entry['repository']}:{tag}"


def _registries(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "registries" and isinstance(value, dict):
                found.update(v for v in value.values() if isinstance(v, str))
            else:
                _registries(value, found)
    elif isinstance(node, list):
        for value in node:
            _registries(value, found)


def missing_modules(modules: Iterable[str], extra: str | None) -> tuple[list[str], str]:
    """(the modules not installed here, the pip command that installs them: the sagespec extra
    that brings them, or the modules themselves when sagespec has none)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return missing, f"pip install 'sagespec[{extra}]'" if extra else f"pip install {' '.join(missing)}"
