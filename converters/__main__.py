"""``python -m converters INPUT OUT_DIR --options JSON``: a conversion in its own process.

The platform's workers run conversions this way so that a crash, a hang or a memory blow-up in a
geometry kernel never takes the worker down. Progress goes to stdout as JSON lines
(``{"progress": 0.4, "message": "..."}``), the report last (``{"report": {...}}``). Bad input ends
with ``{"error": "...", "kind": "data"}`` and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from converters.api import convert
from converters.errors import ConversionError
from converters.options import ConvertOptions


def _emit(payload: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m converters")
    parser.add_argument("input", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--options", default="{}", help="ConvertOptions fields as a JSON object")
    args = parser.parse_args(argv)
    fields = json.loads(args.options)
    for key in ("origin", "default_location"):
        if fields.get(key) is not None:
            fields[key] = tuple(fields[key])
    options = ConvertOptions(**fields)
    options.progress = lambda fraction, message: _emit({"progress": round(fraction, 4), "message": message})
    try:
        report = convert(args.input, args.out_dir, options)
    except ConversionError as error:
        _emit({"error": str(error), "kind": "data"})
        return 2
    _emit({"report": report})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
