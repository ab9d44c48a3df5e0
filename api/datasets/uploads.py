"""Streaming multipart parsing: the file goes to disk while hashed, never whole into memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from cim_platform.core.errors import CimError, InvalidInput, PayloadTooLarge
from cim_platform.core.settings import Settings
from cim_platform.datasets.sources import IncomingFile, begin_upload

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    file: IncomingFile | None = None


async def parse_upload(request: Request, settings: Settings, file_field: str = "file") -> ParsedUpload:
    """Read a multipart/form-data body with one file part named ``file_field`` and text fields."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidInput("send the upload as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes + 1024 * 1024:
        raise PayloadTooLarge(f"the upload ({declared} bytes) exceeds the limit of {settings.max_upload_bytes} bytes")

    result = ParsedUpload()
    state: dict[str, object] = {"headers": {}, "field": b"", "value": b""}
    current: dict[str, object] = {}
    errors: list[Exception] = []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] = bytes(state["field"]) + data[start:end]  # type: ignore[arg-type]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] = bytes(state["value"]) + data[start:end]  # type: ignore[arg-type]

    def on_header_end() -> None:
        headers = state["headers"]
        assert isinstance(headers, dict)
        headers[bytes(state["field"]).lower()] = bytes(state["value"])  # type: ignore[arg-type]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        headers = state["headers"]
        assert isinstance(headers, dict)
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode()
        filename = disposition.get(b"filename")
        current.clear()
        current["name"] = name
        if filename is not None and name == file_field:
            if result.file is not None:
                raise InvalidInput("send exactly one file per upload")
            result.file = begin_upload(settings, filename.decode("utf-8", "replace"))
            current["file"] = result.file
        else:
            current["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if "file" in current:
            result.file.write(data[start:end])  # type: ignore[union-attr]
        else:
            value = bytes(current["value"]) + data[start:end]  # type: ignore[arg-type]
            if len(value) > MAX_FIELD_BYTES:
                raise InvalidInput(f"form field {current['name']!r} is too long")
            current["value"] = value

    def on_part_end() -> None:
        if "file" not in current and current.get("name"):
            value = bytes(current["value"]).decode("utf-8", "replace")  # type: ignore[arg-type]
            if "\x00" in value:
                raise InvalidInput(f"form field {current['name']!r} contains a NUL character")
            if len(result.fields) >= MAX_FIELDS:
                raise InvalidInput(f"too many form fields (at most {MAX_FIELDS})")
            result.fields[str(current["name"])] = value
        state["headers"] = {}

    def on_end() -> None:
        state["ended"] = True

    parser = MultipartParser(
        params[b"boundary"],
        callbacks={
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except Exception as exc:
        if result.file is not None:
            result.file.discard()
        errors.append(exc)
    if errors:
        error = errors[0]
        if isinstance(error, CimError):  # invalid input, too large, no room left on the disk
            raise error
        raise InvalidInput(f"the multipart body could not be read: {error}") from error
    if not state.get("ended"):
        if result.file is not None:
            result.file.discard()
        raise InvalidInput("the multipart body is incomplete (no closing boundary): the upload was cut off")
    if result.file is None:
        raise InvalidInput(f"the upload has no file part named {file_field!r}")
    await run_in_threadpool(result.file.finish)
    return result


async def receive_raw(request: Request, settings: Settings, filename: str) -> IncomingFile:
    """A raw request body (PUT) streamed to disk."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the upload ({declared} bytes) exceeds the limit of {settings.max_upload_bytes} bytes")
    incoming = begin_upload(settings, filename)
    try:
        async for chunk in request.stream():
            incoming.write(chunk)
    except BaseException:  # too large, no room left, the client went away: nothing is kept
        incoming.discard()
        raise
    await run_in_threadpool(incoming.finish)
    return incoming
