"""The CSV tables read by pyarrow (in C) and by Python's csv module (the previous reader) give the same tables
and the same checked network: GB18030 and UTF-8, Chinese headers, every kind of bad row, and the cells where the
two readers could part (spaces around texts and numbers, quotes, blank rows, rows of other lengths)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pytest

from converters.options import ConvertOptions
from converters.pipelines.network import build_network
from converters.pipelines.tables import SPACES, ArrowColumns, Table, Tables, read_csv
from tests.support.pipelines import CRS, generator, line, point

OPTIONS = ConvertOptions(crs=CRS)


def _points() -> list[dict[str, Any]]:
    return [
        point("A1", "给水", 0, 0), point("A2", "给水", 30, 0), point("A3", "给水", 60, 0),
        point("", "给水", 10, 10),  # no id
        point("A1", "给水", 5, 5),  # duplicate id
        {**point("A4", "给水", 0, 0), "X": "abc"},  # not a number
        {**point("A5", "给水", 0, 0), "X": "", "Y": ""},  # no coordinates
        point("A6", "给水", 20, 20, depth=45), point("A7", "给水", 25, 20, depth=-1),  # implausible depths
        {**point("A8", "燃气", 15, 15), "井径": "abc"},  # manhole size not a number (a warning)
        point("A9", "蒸汽", 16, 15),  # unknown category (a warning)
        point(" B1 ", "雨水", 90, 0, feature="检查井", size=1000),  # spaces around the id
        point("B2", "雨水\u3000", 120, 0, size="0.8m"),  # an ideographic space; a size with its unit
        point("B3", "雨水", 150, 0, ground=" 1300.5 "),  # a number with spaces (read by float())
        point("B4", "雨水", 180, 0, depth="1_0"),  # float() reads it, pyarrow does not
    ]


def _lines() -> list[dict[str, Any]]:
    def seg(ident: str, start: str, end: str, **fields: object) -> dict[str, object]:
        return {"管段编号": ident, **line(start, end, "给水", 1.2, 1.2, 300), **fields}

    return [
        seg("L1", "A1", "A2"), seg("L2", "A2", "A9"), seg("L3", "A2", "A6"), seg("L4", "A2", "A3", 管径=-100),
        seg("L5", "A1", "A3", 起点埋深=40), seg("L1", "A2", "A3"), seg("L7", "A3", "A3"),
        seg("L8", "A2", "A3", 管径=None), seg("L9", "A1", "A3", 起点埋深=None),
        seg("L10", "A2", "A3", 起点埋深=None, 起点高程=1301.0), seg("L11", "A2", "A3", 类别="蒸汽管"),
        seg("L12", "A2", "A3", 管径="DN abc"), seg("L13", "A2", "A3", 管径="800×600"),
        seg("L14", "A2", "A3", 管径="9000×600"), seg("L15", "A2", "A3", 管径=9000),
        seg("L16", "A2", "A3", 起点埋深="x"),
        seg("", "B1", "B2", 类别="雨水", 管径="DN600", 建设年代=1800), seg("L18", "", "A3"),
        seg("L19", "B2", "B3", 类别="雨水", 管径=600, 建设年代="2001.0", 备注='he said "deep", here'),
        seg("L20", "B3", "B4", 类别="雨水", 管径=600, 备注="two\nlines"),
    ]


def _table_bytes(rows: list[dict[str, Any]], encoding: str) -> bytes:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    data: bytes = generator().csv_bytes(rows, columns, encoding)
    return data


def _same_tables(fast: Table, slow: Table) -> None:
    assert (fast.name, fast.header, fast.count) == (slow.name, slow.header, slow.count)
    assert list(fast.columns) == list(slow.columns)
    for name in slow.columns:
        assert fast.columns[name] == slow.columns[name], name


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_arrow_and_csv_module_give_the_same_network(encoding: str) -> None:
    points, lines = _table_bytes(_points(), encoding), _table_bytes(_lines(), encoding)
    fast = Tables(points=[read_csv(points, "points.csv")], lines=[read_csv(lines, "lines.csv")])
    slow = Tables(points=[read_csv(points, "points.csv", arrow=False)],
                  lines=[read_csv(lines, "lines.csv", arrow=False)])
    assert isinstance(fast.points[0].columns, ArrowColumns) and isinstance(fast.lines[0].columns, ArrowColumns)
    assert "管线点号" in fast.points[0].header and "起点点号" in fast.lines[0].header
    _same_tables(fast.points[0], slow.points[0])
    _same_tables(fast.lines[0], slow.lines[0])

    a, b = build_network(fast, OPTIONS), build_network(slow, OPTIONS)
    assert [p.as_dict() for p in a.problems] == [p.as_dict() for p in b.problems]
    assert {p.code for p in a.problems} >= {"missing_id", "duplicate_id", "not_a_number", "missing_coordinates",
                                            "implausible_depth", "missing_end_point", "negative_diameter",
                                            "zero_length", "missing_size", "missing_depth", "above_ground",
                                            "implausible_size", "unknown_category", "implausible_year"}
    for ours, theirs in ((a.point_table, b.point_table), (a.segment_table, b.segment_table)):
        for name, value in asdict(ours).items():
            other = asdict(theirs)[name]
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, other, err_msg=name)
            else:
                assert value == other, name
    assert [s.id for s in a.segments] == ["L1", "L2", "L11", "L13", "B1-B2", "L19", "L20"]
    assert a.points[-1].depth == 10.0 and a.points[-2].ground == 1300.5


@pytest.mark.parametrize("text", [
    "管线点号,X,Y\nP1,1,2\n,,\nP2,3,4\n",  # a row of empty cells is left out
    "\n管线点号,X,Y\nP1,1,2\n",  # the header below a blank line
    "管线点号,X,Y\nP1,1\nP2,3,4,5\n",  # rows shorter and longer than the header
    "管线点号;X;Y\n\"P;1\";1;2\n",  # another delimiter, quoted
    "管线点号,X,Y\r\nP1,1,2\r\nP2,3,4\r\n",  # Windows line ends
    "管线点号, X, Y\nP1, 1, 2\n",  # spaces after the delimiters
    " 管线点号 ,X,X\nP1,1,2\n",  # spaces around a name, a name twice
])
def test_arrow_and_csv_module_agree_on_awkward_tables(text: str) -> None:
    for encoding in ("gb18030", "utf-8-sig"):
        data = text.encode(encoding)
        _same_tables(read_csv(data, "t.csv"), read_csv(data, "t.csv", arrow=False))


def test_the_space_class_is_what_str_strip_removes() -> None:
    assert set(SPACES) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_long_tables_of_few_distinct_texts_read_alike() -> None:
    """Past 1000 rows, columns of few distinct texts are built from pyarrow's dictionary of them."""
    gen = generator()
    points, lines = gen.grid_network(3000)
    lines[1500] = {**lines[1500], "材质": "", "类别": " 燃气 "}  # an empty cell and spaces, far down the table
    lines[2500] = {**lines[2500], "材质": "ＰＥ"}  # a text not seen in the first rows
    tables = []
    for arrow in (True, False):
        tables.append(Tables(
            points=[read_csv(gen.csv_bytes(points, gen.POINT_COLUMNS, "gb18030"), "点表.csv", arrow=arrow)],
            lines=[read_csv(gen.csv_bytes(lines, gen.LINE_COLUMNS, "gb18030"), "线表.csv", arrow=arrow)]))
    _same_tables(tables[0].lines[0], tables[1].lines[0])
    a, b = build_network(tables[0], OPTIONS), build_network(tables[1], OPTIONS)
    assert len(a.segment_table) == len(lines) and a.problems == b.problems
    assert a.segment_table.material == b.segment_table.material and a.segment_table.material[1500] is None
    assert a.segment_table.material[2500] == "ＰＥ" and a.segment_table.category == b.segment_table.category
    assert a.point_table.owner == b.point_table.owner and a.segment_table.owner == b.segment_table.owner


def test_a_cell_beyond_the_csv_modules_limit_is_a_clear_error() -> None:
    from converters.errors import ConversionError

    for data in (b"a," + b"x" * 200_000 + b"\n1,2\n", b"a,b\n1,2,3\n" + b"x" * 200_000 + b",1\n"):
        with pytest.raises(ConversionError, match=r"long\.csv: not a readable CSV table \(field larger"):
            read_csv(data, "long.csv")
