"""Opening IFC inputs safely: ``.ifc`` files and ``.ifczip`` archives, schema checks, one-line refusals."""

from __future__ import annotations

import re
import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import ifcopenshell

from converters.errors import ConversionError, UnsupportedFormatError

MAX_ZIP_MEMBERS = 16
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3
MAX_COMPRESSION_RATIO = 100.0
SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_APPLICATION = re.compile(rb"FILE_NAME\s*\((?:[^;]*?),\s*'([^']*)'\s*,\s*'([^']*)'\s*\)\s*;", re.IGNORECASE | re.DOTALL)


def extract_ifczip(archive: Path, work_dir: Path, max_bytes: int = MAX_UNCOMPRESSED_BYTES) -> Path:
    """Check an .ifczip before extracting its one IFC member (size-capped) into ``work_dir``."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise ConversionError(f"{archive.name}: not a readable zip archive") from error
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise ConversionError(f"{archive.name}: {len(members)} files in the archive (at most {MAX_ZIP_MEMBERS})")
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", member.filename):
                raise ConversionError(f"{archive.name}: unsafe path {member.filename!r} in the archive")
        total = sum(m.file_size for m in members)
        if total > max_bytes:
            raise ConversionError(f"{archive.name}: unpacks to {total} bytes (limit {max_bytes})")
        for member in members:
            if member.file_size > 1024**2 and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
                raise ConversionError(f"{archive.name}: compression ratio of {member.filename!r} suggests a zip bomb")
        ifc_members = [m for m in members if m.filename.lower().endswith(".ifc")]
        if len(ifc_members) != 1:
            raise ConversionError(
                f"{archive.name}: expected exactly one .ifc file in the archive, found {len(ifc_members)}"
            )
        member = ifc_members[0]
        work_dir.mkdir(parents=True, exist_ok=True)
        target = work_dir / "model.ifc"
        written = 0
        try:
            with zf.open(member) as source, target.open("wb") as sink:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > member.file_size or written > max_bytes:  # lying headers
                        raise ConversionError(f"{archive.name}: member larger than declared; refusing to extract")
                    sink.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a damaged member (CRC, deflate stream)
            target.unlink(missing_ok=True)
            raise ConversionError(
                f"{archive.name}: {member.filename} is damaged in the archive ({error}); zip the model again"
            ) from error
        return target


def read_header(path: Path) -> tuple[str, str]:
    """(schema identifier, authoring application) from the STEP header, without parsing the model."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.lstrip().upper().startswith(b"ISO-10303-21"):
        raise UnsupportedFormatError(f"{path.name}: not an IFC STEP file (no ISO-10303-21 header)")
    match = _SCHEMA.search(head)
    if not match:
        raise ConversionError(f"{path.name}: the IFC header names no schema (FILE_SCHEMA)")
    schema = match.group(1).decode("ascii", "replace").strip()
    app = _APPLICATION.search(head)
    application = " / ".join(p.decode("utf-8", "replace") for p in app.groups() if p) if app else ""
    return schema, application


def check_schema(schema: str, name: str) -> None:
    upper = schema.upper()
    if upper in ("IFC2X3", "IFC4") or upper in ("IFC4X3", "IFC4X3_ADD1", "IFC4X3_ADD2", "IFC4X3_TC1"):
        return
    raise ConversionError(
        f"{name}: IFC schema {schema!r} is not supported (readable: IFC2X3, IFC4, IFC4X3 final/ADD1/ADD2)"
    )


def open_model(path: Path, work_dir: Path) -> tuple[ifcopenshell.file, str, str, Path]:
    """Open an .ifc/.ifczip; returns (model, schema, application, path of the .ifc on disk)."""
    if path.name.lower().endswith(".ifczip"):
        path = extract_ifczip(path, work_dir)
    schema, application = read_header(path)
    check_schema(schema, path.name)
    try:
        model = ifcopenshell.open(str(path))
    except Exception as error:  # ifcopenshell raises plain errors for unreadable files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConversionError(f"{path.name}: cannot read the IFC file ({first[:160]})") from error
    if not model.by_type("IfcProduct"):
        raise ConversionError(f"{path.name}: the model contains no products (empty model)")
    header = header_fields(model)
    application = header.get("originating_system") or header.get("preprocessor_version") or application
    return model, model.schema_identifier if hasattr(model, "schema_identifier") else schema, application, path


def header_fields(model: ifcopenshell.file) -> dict[str, str]:
    """FILE_NAME's originating system and preprocessor (tools fill them inconsistently: report both)."""
    try:
        file_name = model.header.file_name
        fields = {
            "originating_system": str(file_name.originating_system or ""),
            "preprocessor_version": str(file_name.preprocessor_version or ""),
        }
    except (AttributeError, RuntimeError):
        return {}
    return {k: v for k, v in fields.items() if v and v != "None"}


def cleanup(work_dir: Path) -> None:
    shutil.rmtree(work_dir, ignore_errors=True)
