"""`Transform` steps: a batch transform job, run with the same servers as local endpoints.

What SageMaker documents ("Use batch transform to run inference", "Associate Prediction Results
with Input Records", CreateTransformJob), done the same way:

- Every object under the input prefix (or listed in a manifest) is transformed into
  `<S3OutputPath>/<its key below the prefix>.out`.
- SplitType Line splits an object into records (None: the whole object is one record); strategy
  MultiRecord puts as many records in a request as MaxPayloadInMB (6 by default) allows,
  SingleRecord one; the answers of a request are its body's lines, one per record.
- DataProcessing: InputFilter selects what of each record is sent (a JSONPath over a CSV
  record's columns or a JSON record); JoinSource Input joins each answer to its input record (CSV:
  the answer's columns after the record's; JSON: the record with `SageMakerOutput`); OutputFilter
  selects what of the joined record is written. JSONPath is jsonpath-ng's.
- AssembleWith Line writes one answer per line; None concatenates them.

RecordIO and TFRecord splitting are not done here: such a step fails, naming the split type.
"""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING, Any

from sagespec.backends.local.executor.handlers import StepRun, handler
from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.models import containers_of, read_model
from sagespec.backends.local.runtime.endpoint_server import InferencePipeline, load_container

if TYPE_CHECKING:
    from sagespec.backends.local.runtime.endpoint_server import Container

MEGABYTE = 1024 * 1024
DEFAULT_MAX_PAYLOAD_MB = 6  # CreateTransformJob: MaxPayloadInMB defaults to 6


def _select(path: str | None, record: Any, is_csv: bool) -> Any:
    """The part of a record a JSONPath selects; a CSV record is its list of columns."""
    if not path or path == "$":
        return record
    from jsonpath_ng.parser import parse  # start-up: only for a transform with filters, not whenever the executor is loaded

    try:
        matches = parse(path).find(record)
    except Exception as exc:  # jsonpath-ng raises bare Exceptions for some syntax, JsonPathParserError for other
        raise StepFailed(f"JSONPath {path} cannot be applied: {exc}") from None
    if is_csv:
        return [m.value for m in matches]
    if isinstance(record, dict) and len(matches) > 1:  # $['id','SageMakerOutput'] keeps the keys it names
        return {str(m.path): m.value for m in matches}
    return matches[0].value if len(matches) == 1 else [m.value for m in matches]


def _parse(record: str, is_csv: bool) -> Any:
    if is_csv:
        return [cell.strip() for cell in record.split(",")]
    try:
        return json.loads(record)
    except ValueError as exc:
        raise StepFailed(f"a record is not JSON ({exc}): {record[:80]}") from None


def _text(value: Any, is_csv: bool) -> str:
    if is_csv:
        cells = value if isinstance(value, list) else [value]
        return ",".join(str(c) for c in cells)
    return json.dumps(value)


class _Job:
    def __init__(self, args: dict[str, Any], container: Container):
        self.container = container
        source = args["TransformInput"]
        self.content_type = source.get("ContentType") or "application/octet-stream"
        self.split = source.get("SplitType", "None")
        if self.split not in ("None", "Line"):
            raise StepFailed(f"SplitType {self.split} is not split locally (Line and None are)")
        self.gzip = source.get("CompressionType") == "Gzip"
        self.accept = args.get("TransformOutput", {}).get("Accept") or self.content_type
        self.assemble = args.get("TransformOutput", {}).get("AssembleWith", "None")
        self.strategy = args.get("BatchStrategy", "MultiRecord")
        self.max_payload = (args.get("MaxPayloadInMB") or DEFAULT_MAX_PAYLOAD_MB) * MEGABYTE or None
        processing = args.get("DataProcessing") or {}
        self.input_filter, self.output_filter = processing.get("InputFilter"), processing.get("OutputFilter")
        self.join = processing.get("JoinSource", "None") == "Input"
        self.csv_in = self.content_type.split(";")[0].strip() == "text/csv"
        self.csv_out = self.accept.split(";")[0].strip() == "text/csv"

    def records(self, data: bytes) -> list[str]:
        text = (gzip.decompress(data) if self.gzip else data).decode("utf-8")
        if self.split == "Line":
            return [line for line in text.splitlines() if line.strip()]
        return [text]

    def batches(self, sent: list[str]) -> list[list[int]]:
        """Indexes of the records each request carries."""
        if self.strategy == "SingleRecord" or self.split == "None":
            return [[i] for i in range(len(sent))]
        batches: list[list[int]] = []
        current: list[int] = []
        size = 0
        for i, record in enumerate(sent):
            length = len(record.encode()) + 1
            if self.max_payload and length > self.max_payload:
                raise StepFailed(f"a record of {length} bytes is larger than MaxPayloadInMB ({self.max_payload // MEGABYTE} MB)")
            if current and self.max_payload and size + length > self.max_payload:
                batches.append(current)
                current, size = [], 0
            current.append(i)
            size += length
        return batches + ([current] if current else [])

    def transform(self, data: bytes) -> bytes:
        records = self.records(data)
        parsed = [_parse(r, self.csv_in) if (self.input_filter or self.join or self.output_filter) else r for r in records]
        sent = [_text(_select(self.input_filter, p, self.csv_in), self.csv_in) if self.input_filter else r for p, r in zip(parsed, records)]
        answers: list[str] = []
        for batch in self.batches(sent):
            body = "\n".join(sent[i] for i in batch).encode()
            try:
                reply, _ = self.container.invoke(body, self.content_type, self.accept)
            except Exception as exc:  # the model's own code: its error fails the job, as on SageMaker
                raise StepFailed(f"the model refused a request of {len(batch)} record(s): {exc}") from None
            text = reply.decode("utf-8")
            lines = text.splitlines() if len(batch) > 1 else [text.rstrip("\n")]
            if len(lines) != len(batch):
                raise StepFailed(
                    f"the model answered {len(lines)} line(s) for {len(batch)} record(s); answers are matched to records by line"
                )
            answers += lines
        written = []
        joined: list[Any] | dict[str, Any]
        for record, answer in zip(parsed, answers):
            if self.join:
                output = _parse(answer, self.csv_out) if self.csv_out == self.csv_in else answer
                if self.csv_in:
                    joined = [*record, *(output if isinstance(output, list) else [output])]
                elif isinstance(record, dict):
                    joined = {**record, "SageMakerOutput": output}
                else:
                    joined = {"SageMakerInput": record, "SageMakerOutput": output}
                written.append(_text(_select(self.output_filter, joined, self.csv_in), self.csv_in))
            elif self.output_filter:
                written.append(_text(_select(self.output_filter, _parse(answer, self.csv_out), self.csv_out), self.csv_out))
            else:
                written.append(answer)
        return ("\n".join(written) + "\n" if self.assemble == "Line" else "".join(written)).encode()


def _inputs(args: dict[str, Any], run: StepRun) -> list[tuple[str, str]]:
    """(object URI, its name below the prefix) for every object the job transforms."""
    source = args["TransformInput"]["DataSource"]["S3DataSource"]
    uri = source["S3Uri"]
    if source.get("S3DataType") == "ManifestFile":  # [{"prefix": "s3://..."}, "key1", "key2", ...]
        manifest = json.loads(run.store.get(uri))
        prefix = manifest[0]["prefix"]
        return [(prefix + key, key) for key in manifest[1:]]
    found = run.store.list(uri)
    if not found:
        raise StepFailed(f"nothing at {uri} to transform")
    base = uri if uri.endswith("/") or uri in found else uri + "/"
    return [(u, u.rsplit("/", 1)[-1] if u == uri else u[len(base) :]) for u in found]


def _container(args: dict[str, Any], run: StepRun) -> Container:
    account = run.role_arn.split(":")[4]
    model = read_model(run.conn, account, args["ModelName"])
    if model is None:
        raise StepFailed(f"model {args['ModelName']} does not exist in account {account}")
    try:
        loaded = [
            load_container(args["ModelName"], c, run.store.get(c["ModelDataUrl"]), run.work / "model" / str(i), run.store.get)
            for i, c in enumerate(containers_of(model))
        ]
    except ValueError as exc:
        raise StepFailed(f"model {args['ModelName']} cannot serve here: {exc}") from None
    return loaded[0] if len(loaded) == 1 else InferencePipeline(args["ModelName"], loaded)


@handler("Transform")
def transform(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    args = run.ctx.resolve(step["Arguments"])
    job = _Job(args, _container(args, run))
    output = args["TransformOutput"]["S3OutputPath"].rstrip("/")
    for uri, name in _inputs(args, run):
        out = job.transform(run.store.get(uri))
        run.store.put(f"{output}/{name}.out", out)
        run.log(f"{uri} -> {output}/{name}.out ({len(out)} bytes)")
    account = run.role_arn.split(":")[4]
    return {
        "TransformJobName": run.job_name,
        "TransformJobArn": run.arn(account, f"transform-job/{run.job_name.lower()}"),
        "TransformJobStatus": "Completed",
        "ModelName": args["ModelName"],
        "TransformInput": args["TransformInput"],
        "TransformOutput": args["TransformOutput"],
        "TransformResources": args.get("TransformResources", {}),
        "DataProcessing": args.get("DataProcessing", {}),
    }
