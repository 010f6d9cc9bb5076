"""Loaded first by a local job's Python (its folder leads PYTHONPATH): no AWS call leaves the machine.

boto3 and the AWS CLI follow AWS_ENDPOINT_URL, but code may name an endpoint itself: the
SageMaker Python SDK asks STS at `https://sts.<region>.amazonaws.com` for the default bucket's
account. When botocore is imported, its client creation is wrapped so an endpoint of an AWS
partition's domain (SAGESPEC_AWS_DNS_SUFFIXES, from sagespec.aws.partitions) becomes the run's
local AWS endpoint. botocore is not imported here: a job that never calls AWS pays nothing. Then
the environment's own sitecustomize, if any, is loaded as Python would have.
"""

import importlib.abc
import importlib.machinery
import os
import sys
from urllib.parse import urlsplit

_SUFFIXES = tuple(s for s in os.environ.get("SAGESPEC_AWS_DNS_SUFFIXES", "").split(",") if s)


def _aws_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == s or host.endswith("." + s) for s in _SUFFIXES)


def _patch(module: object) -> None:
    creator = module.ClientCreator  # type: ignore[attr-defined]
    original = creator.create_client

    def create_client(self, service_name, region_name, is_secure=True, endpoint_url=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        local = os.environ.get("AWS_ENDPOINT_URL")
        if local and endpoint_url and _aws_host(endpoint_url):
            endpoint_url = local
        return original(self, service_name, region_name, is_secure, endpoint_url, *args, **kwargs)

    creator.create_client = create_client


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return self.loader.create_module(spec)

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        self.loader.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name != "botocore.client":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if os.environ.get("AWS_ENDPOINT_URL") and _SUFFIXES:
    sys.meta_path.insert(0, _Finder())

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_this = sys.modules.pop("sitecustomize", None)
try:
    import sitecustomize  # type: ignore[import-not-found]  # noqa: F401  (the next one on the path: the environment's own)
except ImportError:
    sys.modules["sitecustomize"] = _this  # type: ignore[assignment]  # none: Python's import of this one ends as usual
