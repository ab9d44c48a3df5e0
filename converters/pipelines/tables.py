"""Reading the survey's point and line tables from CSV (UTF-8 or GB18030), Excel (.xlsx), GeoPackage and
zipped Shapefiles (or a zip of any of these): every table as a header and rows of values.

Which table holds points and which lines is decided by their columns (start and end point ids make a line
table), so file, layer and sheet names do not matter.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError
from converters.pipelines.schema import looks_like_lines, looks_like_points

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

TABLE_SUFFIXES = (".csv", ".xlsx", ".gpkg", ".shp")
MAX_ZIP_MEMBERS = 200
MAX_UNZIPPED_BYTES = 4 * 1024**3


@dataclass(slots=True)
class Table:
    name: str  # file, sheet or layer
    header: list[str]
    columns: Mapping[str, list[Any]]  # column name → one value per row
    count: int
    geometry_xy: NDArray[np.float64] | None = None  # point layers: (count, 2) coordinates, NaN where none
    crs: str | None = None  # GeoPackage/Shapefile layers: the layer's CRS

    def floats(self, column: str) -> NDArray[np.float64] | None:
        """The column as floats (NaN where empty) when it was read in C (CSV) and every cell is a plain number
        or empty; None otherwise (the caller then reads the cells one by one)."""
        return self.columns.floats(column) if isinstance(self.columns, ArrowColumns) else None

    def texts(self, column: str) -> list[str | None] | None:
        """The column's texts, None where empty, when it was read in C (CSV) and no cell has spaces around its
        text; None otherwise (the caller then strips the cells one by one)."""
        return self.columns.texts(column) if isinstance(self.columns, ArrowColumns) else None


# the characters str.strip() removes (those whose str.isspace() is true), as a regular-expression class (RE2)
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000")
_SPACE = "".join(f"\\x{{{ord(c):x}}}" for c in SPACES)
_SPACE_AROUND = f"^[{_SPACE}]|[{_SPACE}]$"


class ArrowColumns(Mapping[str, list[Any]]):
    """A CSV table's columns as read by pyarrow (texts), turned into Python lists only when asked for."""

    def __init__(self, arrays: dict[str, pa.ChunkedArray]) -> None:
        self._arrays = arrays
        self._lists: dict[str, list[Any]] = {}

    def __getitem__(self, name: str) -> list[Any]:
        if name not in self._lists:
            self._lists[name] = self._arrays[name].to_pylist()
        return self._lists[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def texts(self, name: str) -> list[str | None] | None:
        import pyarrow as pa
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        texts = self._arrays[name]
        if pc.any(pc.match_substring_regex(texts, _SPACE_AROUND)).as_py():
            return None
        texts = pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)
        if len(texts) < 1000 or pc.count_distinct(texts[:1000]).as_py() > 200:
            values: list[str | None] = texts.to_pylist()
            return values
        # a column of few distinct texts (categories, materials, owners): one Python string per distinct text,
        # shared by its rows (three times faster to build, and hashed once where the texts are counted later)
        encoded = pc.dictionary_encode(texts).combine_chunks()
        labels: list[str | None] = [*encoded.dictionary.to_pylist(), None]
        codes = encoded.indices.fill_null(len(labels) - 1).to_numpy()
        return list(map(labels.__getitem__, codes.tolist()))

    def floats(self, name: str) -> NDArray[np.float64] | None:
        import pyarrow as pa
        import pyarrow.compute as pc

        texts = self._arrays[name]
        try:  # empty cells are missing; pyarrow's numbers are a subset of what float() reads, read alike
            numbers = pc.cast(pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        values: NDArray[np.float64] = numbers.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        return values


def _columns(header: list[str], rows: list[list[Any]] | list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    width = len(header)
    padded = [list(row[:width]) + [None] * (width - len(row)) if len(row) != width else row for row in rows]
    transposed = list(zip(*padded, strict=True)) if padded else [() for _ in header]
    return {h: list(values) for h, values in zip(header, transposed, strict=True) if h}


@dataclass(slots=True)
class Tables:
    points: list[Table] = field(default_factory=list)
    lines: list[Table] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # tables that are neither (named in the report)


def _decode(data: bytes, name: str) -> str:
    return _decoded(data, name)[0]


def _decoded(data: bytes, name: str) -> tuple[str, str]:
    """The text and its encoding."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ConversionError(f"{name}: neither UTF-8 nor GB18030 text")


def read_csv(data: bytes, name: str, *, arrow: bool = True) -> Table:
    try:
        return _read_csv(data, name, arrow=arrow)
    except csv.Error as error:  # e.g. a cell longer than the csv module's field limit
        raise ConversionError(f"{name}: not a readable CSV table ({error})") from error


def _read_csv(data: bytes, name: str, *, arrow: bool = True) -> Table:
    """Cells as texts, rows with no text left out, the first row the header (names stripped). Read by pyarrow
    (in C) when the table is regular; else (rows of other lengths, a header below blank rows, a dialect
    pyarrow reads otherwise) by Python's csv module, with the same result (``arrow=False``: always so)."""
    text, encoding = _decoded(data, name)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    fast = _read_csv_arrow(data, text, encoding, dialect, name) if arrow else None
    if fast is not None:
        return fast
    reader = csv.reader(io.StringIO(text), dialect)
    rows = [row for row in reader if any(row)]
    if not rows:
        return Table(name, [], {}, 0)
    header = [h.strip() for h in rows[0]]
    return Table(name, header, _columns(header, rows[1:]), len(rows) - 1)


def _read_csv_arrow(data: bytes, text: str, encoding: str, dialect: type[csv.Dialect] | csv.Dialect,
                    name: str) -> Table | None:
    """:func:`read_csv` by pyarrow, or None where its reading could differ from the csv module's."""
    quote = dialect.quotechar or '"'
    if dialect.skipinitialspace or dialect.escapechar or dialect.quoting != csv.QUOTE_MINIMAL or (
            not dialect.doublequote and quote * 2 in text) or data.count(b"\r") != data.count(b"\r\n"):
        # (a lone carriage return: GB18030 and UTF-8 never use the byte 0x0D inside a character)
        return None
    reader = csv.reader(io.StringIO(text), dialect)
    header_row = next((row for row in reader if any(row)), None)
    if header_row is None or reader.line_num != 1:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv  # type: ignore[import-untyped]

    payload = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if encoding != "utf-8-sig":
        payload = text.encode("utf-8")  # GB18030, decoded once above
    names = [f"c{i}" for i in range(len(header_row))]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(payload),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=dialect.delimiter, quote_char=quote,
                                              double_quote=dialect.doublequote, escape_char=False,
                                              newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # e.g. a row with more or fewer cells than the header
    if table.num_columns and table.num_rows:
        empty = None
        for column in table.columns:
            blank = pc.equal(column, "")
            empty = blank if empty is None else pc.and_(empty, blank)
        if pc.any(empty).as_py():
            table = table.filter(pc.invert(empty))
    header = [h.strip() for h in header_row]
    arrays = {h: table.column(i) for i, h in enumerate(header) if h}
    return Table(name, header, ArrowColumns(arrays), table.num_rows)


def read_xlsx(path: Path, name: str) -> list[Table]:
    import openpyxl  # type: ignore[import-untyped]  # no stubs among the dev dependencies

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for damaged files
        raise ConversionError(f"{name}: not a readable Excel workbook ({type(error).__name__})") from error
    tables = []
    try:
        for sheet in book.worksheets:
            values = [row for row in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in row)]
            if not values:
                continue
            header = [str(v).strip() if v is not None else "" for v in values[0]]
            tables.append(Table(f"{name}:{sheet.title}", header, _columns(header, values[1:]), len(values) - 1))
    finally:
        book.close()
    return tables


def read_layers(path: Path, name: str) -> list[Table]:
    """Every layer of a GeoPackage or Shapefile (points: coordinates from the geometry)."""
    import pyogrio  # type: ignore[import-untyped]  # imported here: CSV and Excel tables need none of it
    import shapely
    from pyogrio import raw

    try:
        layers = pyogrio.list_layers(path)
    except Exception as error:
        raise ConversionError(f"{name}: not a readable GeoPackage or Shapefile ({str(error)[:100]})") from error
    tables = []
    for layer_name, _geometry_type in layers:
        try:
            meta, _fids, geometry, field_data = raw.read(path, layer=layer_name)
        except Exception as error:
            raise ConversionError(f"{name}: layer {layer_name} cannot be read ({str(error)[:100]})") from error
        header = [str(f) for f in meta["fields"]]
        columns = {h: np.asarray(values, dtype=object).tolist() for h, values in zip(header, field_data, strict=True)}
        count = len(field_data[0]) if field_data else (len(geometry) if geometry is not None else 0)
        xy: NDArray[np.float64] | None = None
        if geometry is not None and len(geometry):
            shapes = shapely.from_wkb(geometry)
            types = shapely.get_type_id(shapes)
            if np.all((types == 0) | (types == -1)):
                xy = np.full((len(shapes), 2), np.nan)
                xy[types == 0] = shapely.get_coordinates(shapes[types == 0])[:, :2]
        crs = meta.get("crs")
        tables.append(Table(f"{name}:{layer_name}", header, columns, count, xy, str(crs) if crs else None))
    return tables


def _read_file(path: Path, name: str) -> list[Table]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [read_csv(path.read_bytes(), name)]
    if suffix == ".xlsx":
        return read_xlsx(path, name)
    if suffix in (".gpkg", ".shp"):
        return read_layers(path, name)
    raise ConversionError(f"{name}: expected CSV, Excel, GeoPackage or a zipped Shapefile")


def _read_zip(path: Path, overrides: dict[str, str] | None) -> list[Table]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ConversionError(f"{path.name}: not a readable zip archive") from error
    with archive, tempfile.TemporaryDirectory(prefix="pipelines-") as tmp:
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise ConversionError(f"{path.name}: too many or too large files in the archive")
        for member in members:
            target = Path(tmp) / Path(member.filename).name  # flat: no paths from the archive are trusted
            target.write_bytes(archive.read(member))
        tables: list[Table] = []
        for file in sorted(Path(tmp).iterdir()):
            if file.suffix.lower() in TABLE_SUFFIXES:
                tables.extend(_read_file(file, file.name))
        return tables


def read_tables(path: Path, overrides: dict[str, str] | None = None) -> Tables:
    """The point and line tables of ``path`` (a table file or a zip of them)."""
    found = _read_zip(path, overrides) if path.suffix.lower() == ".zip" else _read_file(path, path.name)
    tables = Tables()
    for table in found:
        if looks_like_lines(table.header, overrides):
            tables.lines.append(table)
        elif looks_like_points(table.header, overrides) or (
            table.geometry_xy is not None and looks_like_points([*table.header, "x", "y"], overrides)
        ):
            tables.points.append(table)
        else:
            tables.ignored.append(table.name)
    return tables


def sniff(path: Path) -> bool:
    """Whether ``path`` holds pipeline survey tables (a cheap look at headers)."""
    try:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            head = path.open("rb").read(8192)
            text = _decode(head[: head.rfind(b"\n") + 1] or head, path.name)
            header = text.splitlines()[0] if text else ""
            names = next(csv.reader([header], csv.Sniffer().sniff(header, ",;\t") if header else csv.excel), [])
            return looks_like_lines(names) or looks_like_points(names)
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n.lower() for n in archive.namelist()]
            if any(n.endswith("tileset.json") or n.endswith("metadata.xml") or n.endswith(".osgb") for n in names):
                return False
            return any(n.endswith(s) for n in names for s in TABLE_SUFFIXES)
        if suffix == ".gpkg":
            import pyogrio

            headers = [[str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
                       for layer, _type in pyogrio.list_layers(path)]
            return any(looks_like_lines(h) for h in headers) and any(
                looks_like_points([*h, "x", "y"]) for h in headers)
        tables = read_tables(path)
        return bool(tables.points or tables.lines)
    except (ConversionError, OSError, ValueError, zipfile.BadZipFile, csv.Error, StopIteration):
        return False
    except Exception as error:  # pyogrio's (imported only for layers)
        from pyogrio.errors import DataLayerError, DataSourceError  # type: ignore[import-untyped]

        if isinstance(error, DataSourceError | DataLayerError):
            return False
        raise
