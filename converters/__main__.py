"""``python -m converters INPUT OUT_DIR --options JSON``: a conversion in its own process.

The platform's workers run conversions this way so that a crash, a hang or a memory blow-up in a
geometry kernel never takes the worker down. Progress goes to stdout as JSON lines
(``{"progress": 0.4, "message": "..."}``), the report last (``{"report": {...}}``). Bad input ends
with ``{"error": "...", "kind": "data"}`` and exit code 2.

The process is set up for what it is, one conversion whose parallelism is its own forked workers:

- OpenBLAS (numpy's BLAS) gets one thread unless ``OPENBLAS_NUM_THREADS`` says otherwise. Its pool
  threads only busy-wait here (no matrix product in the converters is large enough to share out):
  about 0.1 s of a core after numpy's import (``perf``), taken from the workers beside them, and
  every forked worker that touches BLAS would start a pool of its own. Set before numpy's import
  (importing :mod:`converters` does not import it).
- once the report or the error line is written and flushed, the process ends with :func:`os._exit`:
  the interpreter's teardown (a last garbage collection over every object, then ifcopenshell's and
  PROJ's static destructors) takes 15-50 ms and only frees memory the system takes back anyway.
  Nothing is left to it: every output file is closed by then, the conversion's own processes are
  reaped, and temporary folders are removed by the ``with`` blocks that made them. An unexpected
  exception still ends the normal way (traceback, exit code 1).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy's import: see the module docstring

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
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: see the module docstring
