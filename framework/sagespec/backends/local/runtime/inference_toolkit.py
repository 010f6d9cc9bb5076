"""SageMaker's inference toolkit contract, run inside a local endpoint.

The scikit-learn, XGBoost and PyTorch inference images load a model and answer requests through
four functions of the model's inference script (SAGEMAKER_PROGRAM), each replaced by the
framework's default where the script has none ("Use PyTorch/Scikit-learn/XGBoost with the
SageMaker Python SDK": model_fn, input_fn, predict_fn, output_fn; or transform_fn instead of the
last three):

    model = model_fn(model_dir)                         # once, when the variant loads
    data = input_fn(request_body, content_type)         # each request
    prediction = predict_fn(data, model)
    body = output_fn(prediction, accept)

The defaults are the containers' own (sagemaker-scikit-learn-container serving.py,
sagemaker-xgboost-container handler_service.py and encoder.py, sagemaker-pytorch-inference-toolkit
default_pytorch_inference_handler.py, and sagemaker-inference-toolkit's decoder/encoder):

    framework  model_fn                           input_fn                       predict_fn
    sklearn    none: the script must define it    CSV/JSON/NPY -> float32 array  model.predict(data)
    xgboost    none: the script must define it    CSV/LIBSVM -> DMatrix          model.predict(data, validate_features=False)
    pytorch    TorchScript model.pt (or the one   CSV/JSON -> FloatTensor,       model.eval(); model(data) without grad
               .pt/.pth file) in the model dir    NPY -> tensor

output_fn encodes the prediction as JSON, CSV or NPY, by Accept (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT,
else application/json, when the request names none). Where the code comes from follows
SAGEMAKER_SUBMIT_DIRECTORY: an s3:// sourcedir.tar.gz (scikit-learn, XGBoost) or the model
archive's code/ folder (PyTorch, repacked). A handler that also takes a `context` argument gets None.

Two differences, both deliberate: NPY bodies are read with allow_pickle=False (the toolkit allows
pickles, which run code chosen by whoever sends the request), and a body the default input_fn
cannot decode is a 400 naming the problem rather than the container's 500. The model's Environment
is set while its script is imported and model_fn runs; a requirements.txt is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import json
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sagespec.aws.builtin_xgboost import MODEL_FILE
from sagespec.backends.local.serving import BadRequest, unpack

if TYPE_CHECKING:
    from types import ModuleType

    from numpy.typing import NDArray

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
LIBSVM = ("text/libsvm", "text/x-libsvm")
UTF8_TYPES = (JSON, CSV)
DEFAULT_ACCEPT = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
_ENVIRONMENT_LOCK = threading.Lock()


def media_type(header: str) -> str:
    return (header or "").split(";")[0].strip().lower()


def decode(body: bytes, content_type: str) -> NDArray[Any]:
    """sagemaker_inference.decoder.decode: the body as a NumPy array."""

    kind = media_type(content_type)
    try:
        if kind == JSON:
            return np.array(json.loads(body))
        if kind == CSV:
            return np.genfromtxt(io.StringIO(body.decode("utf-8")), delimiter=",")
        if kind == NPY:
            array: NDArray[Any] = np.load(io.BytesIO(body), allow_pickle=False)  # .npy: one array
            return array
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(400, f"the {kind} body cannot be read as an array: {exc}") from None
    raise BadRequest(415, f"content type '{content_type}' is not supported; use {CSV}, {JSON} or {NPY}")


def encode(prediction: object, accept: str) -> tuple[bytes, str]:
    """sagemaker_inference.encoder.encode: (body, content type) for the first supported Accept type."""

    for kind in (media_type(a) for a in accept.split(",")):
        if kind == JSON:
            return json.dumps(prediction, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)).encode(), JSON
        if kind == CSV:
            stream = io.StringIO()
            np.savetxt(stream, np.atleast_1d(np.asarray(prediction)), delimiter=",", fmt="%s")
            return stream.getvalue().encode(), CSV
        if kind == NPY:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(prediction), allow_pickle=False)
            return buffer.getvalue(), NPY
    raise BadRequest(406, f"Accept '{accept[:80]}' cannot be served; use {JSON}, {CSV} or {NPY}")


class SklearnDefaults:
    DEFAULT_ACCEPT_TYPE = JSON  # the inference toolkit's, when neither the request nor SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT names one

    def model_fn(self, model_dir: str) -> Any:
        raise NotImplementedError("Please provide a model_fn implementation (the scikit-learn container has no default)")

    def input_fn(self, body: bytes, content_type: str) -> Any:

        array = decode(body, content_type)
        return array.astype(np.float32) if media_type(content_type) in UTF8_TYPES else array

    def predict_fn(self, data: Any, model: Any) -> Any:
        return model.predict(data)

    def output_fn(self, prediction: Any, accept: str) -> tuple[bytes, str]:
        return encode(prediction, accept)


class XGBoostDefaults(SklearnDefaults):
    def model_fn(self, model_dir: str) -> Any:
        raise NotImplementedError("Please provide a model_fn implementation (the XGBoost container has no default in script mode)")

    def input_fn(self, body: bytes, content_type: str) -> Any:
        import xgboost as xgb  # the local extra's XGBoost: only to serve an XGBoost model

        kind = media_type(content_type)
        if kind == CSV:  # empty cells are missing values (encoder.csv_to_dmatrix)
            try:
                lines = body.decode("utf-8").strip().split("\n")
                rows = [["nan" if cell.strip() == "" else cell for cell in line.split(",")] for line in lines]
                return xgb.DMatrix(np.array(rows).astype(np.float32))
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadRequest(400, f"the text/csv body cannot be read as feature rows: {exc}") from None
        if kind in LIBSVM:
            with tempfile.NamedTemporaryFile(suffix=".libsvm") as handle:
                handle.write(body)
                handle.flush()
                try:
                    return xgb.DMatrix(f"{handle.name}?format=libsvm")
                except xgb.core.XGBoostError as exc:
                    raise BadRequest(400, f"the LIBSVM body cannot be read: {str(exc).splitlines()[0]}") from None
        raise BadRequest(415, f"content type '{content_type}' is not supported by the XGBoost container; use text/csv or text/libsvm")

    def predict_fn(self, data: Any, model: Any) -> Any:
        return model.predict(data, validate_features=False)


def _torch() -> Any:
    import torch  # the local-torch extra: loaded only to serve a PyTorch model, and only where it is installed

    return torch


class PyTorchDefaults(SklearnDefaults):
    def model_fn(self, model_dir: str) -> Any:
        torch = _torch()

        path = Path(model_dir) / "model.pt"
        if not path.exists():
            found = [p for p in Path(model_dir).iterdir() if p.is_file() and p.suffix in (".pt", ".pth")]
            if len(found) != 1:
                raise ValueError(f"Exactly one .pth or .pt file is required for PyTorch models: {sorted(p.name for p in found)}")
            path = found[0]
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except RuntimeError as exc:
            raise RuntimeError(f"Failed to load {path.name}. Please ensure model is saved using torchscript.") from exc

    def input_fn(self, body: bytes, content_type: str) -> Any:
        torch = _torch()

        array = decode(body, content_type)
        return torch.FloatTensor(array) if media_type(content_type) in UTF8_TYPES else torch.from_numpy(array)

    def predict_fn(self, data: Any, model: Any) -> Any:
        torch = _torch()

        with torch.no_grad():
            model.eval()
            return model(data)

    def output_fn(self, prediction: Any, accept: str) -> tuple[bytes, str]:
        torch = _torch()

        if isinstance(prediction, torch.Tensor):
            prediction = prediction.detach().cpu().numpy().tolist()
        return encode(prediction, accept)


class XGBoostAlgorithm(XGBoostDefaults):
    """The built-in algorithm's container, serving with no script ("XGBoost algorithm with Amazon
    SageMaker AI", Input/Output interface: inference ContentType text/csv, the default, or
    text/libsvm; sagespec.aws.builtin_xgboost). It reads `xgboost-model` in whichever format its
    version wrote: a pickle (up to 1.2) or XGBoost's own (from 1.3-1), as the container's
    serve_utils tries both. Its answer is CSV unless the request accepts JSON."""

    DEFAULT_ACCEPT_TYPE = CSV

    def model_fn(self, model_dir: str) -> Any:
        import xgboost as xgb  # the local extra's XGBoost: only to serve an XGBoost model

        path = Path(model_dir) / MODEL_FILE
        try:
            with open(path, "rb") as handle:
                booster = pickle.load(handle)  # the job's own artifact, unpickled as the container does
        except (pickle.UnpicklingError, EOFError, ValueError):
            booster = xgb.Booster()
            booster.load_model(bytearray(path.read_bytes()))  # raw bytes: no guess from a file name without extension
        return booster

    def output_fn(self, prediction: Any, accept: str) -> tuple[bytes, str]:
        if JSON in [media_type(a) for a in accept.split(",")] or CSV in [media_type(a) for a in accept.split(",")]:
            return encode(prediction, accept)
        raise BadRequest(406, f"Accept '{accept[:80]}' cannot be served by the XGBoost algorithm; use {CSV} or {JSON}")


FRAMEWORKS = {"sklearn": SklearnDefaults, "xgboost": XGBoostDefaults, "xgboost-algorithm": XGBoostAlgorithm, "pytorch": PyTorchDefaults}


class ToolkitModel:
    """One model container: its handlers and the loaded model."""

    def __init__(
        self, name: str, handlers: dict[str, Callable[..., Any]], model: Any, environment: dict[str, str], default_accept: str = JSON
    ):
        self.name, self.handlers, self.model, self.environment = name, handlers, model, environment
        self.default_accept = default_accept

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if not accept or media_type(accept) in ("*/*", ""):
            accept = self.environment.get(DEFAULT_ACCEPT, self.default_accept)
        h = self.handlers
        if "transform_fn" in h:
            result = _call(h["transform_fn"], self.model, body, content_type, accept)
        else:
            result = _call(h["output_fn"], _call(h["predict_fn"], _call(h["input_fn"], body, content_type), self.model), accept)
        if isinstance(result, tuple):  # (body, content type), as encode and older transform_fns return
            result, accept = result[0], result[1]
        return (result.encode() if isinstance(result, str) else bytes(result)), media_type(accept)


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Call a handler, passing the toolkit's `context` argument (None here) if it takes one."""
    try:
        takes = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        takes = len(args)
    return function(*args, None) if takes > len(args) else function(*args)


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    with _ENVIRONMENT_LOCK:
        saved = {k: os.environ.get(k) for k in variables}
        os.environ.update({k: str(v) for k, v in variables.items()})
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _user_module(name: str, code_dir: Path, program: str) -> ModuleType:
    path = code_dir / program
    if not path.is_file():
        raise FileNotFoundError(f"SAGEMAKER_PROGRAM {program} is not in the model's code ({', '.join(sorted(os.listdir(code_dir)))})")
    spec = importlib.util.spec_from_file_location(f"sagespec_model_{name.replace('-', '_')}_{path.stem}", path)
    if spec is None or spec.loader is None:  # no loader for its suffix: not a Python source file
        raise ValueError(f"SAGEMAKER_PROGRAM {program} is not a Python module (a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(code_dir))  # the script's own helper modules, as the container's code dir
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(code_dir))
    return module


def handlers_of(framework: str, module: ModuleType | None) -> dict[str, Callable[..., Any]]:
    """The four handlers: the script's where it defines them, else the framework's defaults."""
    defaults = FRAMEWORKS[framework]()
    found = {
        n: getattr(module, n) for n in ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn") if module and hasattr(module, n)
    }
    if "transform_fn" in found and {"input_fn", "predict_fn", "output_fn"} & set(found):
        raise ValueError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
    chosen = {"model_fn": found.get("model_fn", defaults.model_fn)}
    if "transform_fn" in found:
        chosen["transform_fn"] = found["transform_fn"]
    else:
        chosen.update({n: found.get(n, getattr(defaults, n)) for n in ("input_fn", "predict_fn", "output_fn")})
    return chosen


def load(framework: str, name: str, container: dict[str, Any], archive: bytes, folder: Path, fetch: Callable[[str], bytes]) -> ToolkitModel:
    """Unpack a model container as its image would (/opt/ml/model, the code), import its script
    and run model_fn. `fetch(uri)` reads an s3:// object of the local store."""
    environment = {k: str(v) for k, v in (container.get("Environment") or {}).items()}
    model_dir = unpack(archive, folder / "model")
    program = environment.get("SAGEMAKER_PROGRAM")
    module = None
    with _environment(environment):
        if program:
            submit = environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "/opt/ml/model/code")
            if submit.startswith("s3://"):
                code_dir = unpack(fetch(submit), folder / "code")
            elif submit.startswith("/opt/ml/model"):
                code_dir = model_dir / submit[len("/opt/ml/model") :].lstrip("/")
            else:
                raise ValueError(f"SAGEMAKER_SUBMIT_DIRECTORY {submit} is neither an s3:// archive nor a folder of the model")
            module = _user_module(name, code_dir, program)
        handlers = handlers_of(framework, module)
        model = _call(handlers["model_fn"], str(model_dir))
    return ToolkitModel(name, handlers, model, environment, FRAMEWORKS[framework].DEFAULT_ACCEPT_TYPE)
