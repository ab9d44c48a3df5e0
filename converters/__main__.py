"""``python -m converters INPUT OUT_DIR --options JSON``: a conversion in its own process.

The platform's workers run conversions this way so that a crash, a hang or a memory blow-up in a
geometry kernel never takes the worker down. Progress goes to stdout as JSON lines
(``{"progress": 0.4, "message": "..."}``), the report last (``{"report": {...}}``). Bad input ends
with ``{"error": "...", "kind": "data"}`` and exit code 2.

The process is set up for what it is, one conversion whose parallelism is its own forked workers:

- OpenBLAS (numpy's BLAS) gets one thread unless ``OPENBLAS_NUM_THREADS``, ``GOTO_NUM_THREADS`` or
  ``OMP_NUM_THREADS`` says otherwise. Its pool threads busy-wait after numpy's import, about 0.1 s of a
  core (``perf``), taken from the workers beside them, and every forked worker that touches BLAS would
  start a pool of its own. The converters' matrix products are (N, 3) × (3, 3) transforms, bound by
  memory, not by arithmetic. Set before numpy's import (importing :mod:`converters` does not import it).
- for an IFC input, ifcopenshell's parser of MVD descriptions is built on first use, never in a
  conversion, instead of at ifcopenshell's import (:mod:`converters.ifc.mvd_parser`: 18 ms of CPU on
  a small model's critical path).
- once the report or the error line is written and flushed, the process ends with :func:`os._exit`:
  the interpreter's teardown (a last garbage collection over every object, then ifcopenshell's and
  PROJ's static destructors) took 45-75 ms after a small IFC model and only frees memory the system
  takes back anyway. Nothing is left to it: every output file is closed by then, the conversion's own
  processes are reaped (any multiprocessing child still there is killed and reaped first, as
  multiprocessing's exit hook would), and temporary folders are removed by the ``with`` blocks that
  made them. An unexpected exception still ends the normal way (traceback, exit code 1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from converters.api import SUFFIX_KINDS, convert
from converters.errors import ConversionError
from converters.options import ConvertOptions

IFC_SUFFIXES = tuple(suffix for suffix, kind in SUFFIX_KINDS.items() if kind == "ifc")


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
    if options.kind == "ifc" or (options.kind is None and args.input.suffix.lower() in IFC_SUFFIXES):
        from converters.ifc.mvd_parser import defer

        defer()  # before ifcopenshell's import: see the module docstring
    try:
        report = convert(args.input, args.out_dir, options)
    except ConversionError as error:
        _emit({"error": str(error), "kind": "data"})
        return 2
    _emit({"report": report})
    return 0


BLAS_THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")  # OpenBLAS's order


def _end(code: int) -> None:
    """End the process now that its output is out: no interpreter teardown (module docstring)."""
    if "multiprocessing" in sys.modules:  # none should be left; if one is, as multiprocessing's exit hook
        import multiprocessing

        for child in multiprocessing.active_children():
            child.kill()
            child.join()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    if not any(name in os.environ for name in BLAS_THREAD_SETTINGS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy's import: see the module docstring
    _end(main())
