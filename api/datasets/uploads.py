"""Streaming multipart parsing: the file goes to disk while hashed, never whole into memory. Instead of
one ``file``, a folder may come as several ``files`` parts whose file names carry the relative paths
(``<input webkitdirectory>``, ``curl -F 'files=@a;filename=dir/a'``): they are assembled into one zip
(:mod:`cim_platform.datasets.folder_upload`) that then takes the zip path."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from cim_platform.core.errors import CimError, InvalidInput, PayloadTooLarge
from cim_platform.core.settings import Settings
from cim_platform.datasets.folder_upload import FolderUpload
from cim_platform.datasets.sources import IncomingFile, begin_upload

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64


@dataclass
class _PartState:
    """The multipart parser's position: the part's headers so far, and where its data goes."""

    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_name: bytes = b""
    header_value: bytes = b""
    name: str = ""
    file: IncomingFile | None = None
    in_folder: bool = False
    text: bytes = b""
    ended: bool = False


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    file: IncomingFile | None = None
    folder: FolderUpload | None = None  # set when the file is a folder's files assembled into a zip


async def parse_upload(
    request: Request, settings: Settings, file_field: str = "file", folder_field: str = "files"
) -> ParsedUpload:
    """Read a multipart/form-data body with one file part named ``file_field`` (or a folder's files,
    parts named ``folder_field``) and text fields."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidInput("send the upload as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes + 1024 * 1024:
        raise PayloadTooLarge(f"the upload ({declared} bytes) exceeds the limit of {settings.max_upload_bytes} bytes")

    result = ParsedUpload()
    state = _PartState()
    errors: list[Exception] = []
    folder = FolderUpload(settings)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.header_name.lower()] = state.header_value
        state.header_name, state.header_value = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state.headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode()
        filename = disposition.get(b"filename")
        state.name, state.file, state.in_folder, state.text = name, None, False, b""
        both = f"send one file ({file_field!r}) or a folder's files ({folder_field!r} parts), not both"
        if filename is not None and name == file_field:
            if result.file is not None or folder.started:
                raise InvalidInput("send exactly one file per upload" if result.file is not None else both)
            result.file = state.file = begin_upload(settings, filename.decode("utf-8", "replace"))
        elif filename is not None and name == folder_field:
            if result.file is not None:
                raise InvalidInput(both)
            folder.begin(filename.decode("utf-8", "replace"))
            state.in_folder = True

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.file is not None:
            state.file.write(data[start:end])
        elif state.in_folder:
            folder.write(data[start:end])
        else:
            state.text += data[start:end]
            if len(state.text) > MAX_FIELD_BYTES:
                raise InvalidInput(f"form field {state.name!r} is too long")

    def on_part_end() -> None:
        if state.in_folder:
            folder.end()
        elif state.file is None and state.name:
            value = state.text.decode("utf-8", "replace")
            if "\x00" in value:
                raise InvalidInput(f"form field {state.name!r} contains a NUL character")
            if len(result.fields) >= MAX_FIELDS:
                raise InvalidInput(f"too many form fields (at most {MAX_FIELDS})")
            result.fields[state.name] = value
        state.headers = {}

    def on_end() -> None:
        state.ended = True

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
        folder.discard()
        errors.append(exc)
    if errors:
        error = errors[0]
        if isinstance(error, CimError):  # invalid input, too large, no room left on the disk
            raise error
        raise InvalidInput(f"the multipart body could not be read: {error}") from error
    if not state.ended:
        if result.file is not None:
            result.file.discard()
        folder.discard()
        raise InvalidInput("the multipart body is incomplete (no closing boundary): the upload was cut off")
    if folder.started:
        result.file, result.folder = await run_in_threadpool(folder.finish), folder
        return result
    if result.file is None:
        raise InvalidInput(
            f"the upload has no file part named {file_field!r} (nor a folder's files as {folder_field!r} parts)"
        )
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
