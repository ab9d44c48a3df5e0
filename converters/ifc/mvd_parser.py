"""ifcopenshell's MVD-description parser, built on first use instead of at ifcopenshell's import.

``ifcopenshell.file`` imports ``ifcopenshell.util.mvd_info``, whose import builds a Lark LALR parser
for the header's model view definition (about 18 ms of CPU, measured with ``-X importtime``). Only
``ifcopenshell.file.mvd`` uses it, and a conversion never reads it. In a small model's conversion
that build is a tenth of the process's critical path (``bench/README.md``, IFC section).

:func:`defer` has the next import of ``ifcopenshell.util.mvd_info`` produce a stand-in module: it holds
``LARK_AVAILABLE`` as the real module computes it, and ``MvdInfo`` as a function that imports the
real module and returns an instance of its ``MvdInfo``. Any other name is forwarded the same way. The
stand-in is made by the import system itself, from a meta-path finder, so ``import
ifcopenshell.util.mvd_info`` and the package attribute work as usual. At first use the finder stops
answering, the real module replaces the stand-in in ``sys.modules`` and on the package, and
``ifcopenshell.file`` (which bound ``MvdInfo`` by name) gets the real class. ``file.mvd`` then returns
the same object as without the deferral (``tests/converters/test_ifc_mvd_parser.py``). A reference to
the stand-in's ``MvdInfo`` taken before first use stays a function, not the class.

Only the conversion process calls it (:mod:`converters.__main__`, for an IFC input), before anything
imports ifcopenshell; the job worker, the API and the tests never do. It does nothing if ifcopenshell
is imported already, or if the installed ifcopenshell has no such module. ``LARK_AVAILABLE`` follows
the rule of ifcopenshell 0.9's module (lark can be found); the tests compare ``file.mvd`` with the
installed version's own answer, so a version whose module changes shape fails them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE = "ifcopenshell.util.mvd_info"
_lock = threading.RLock()  # re-entered if the real module's import reaches the stand-in again


class _DeferredModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds :data:`MODULE` as the stand-in while :attr:`active`. It stays in ``sys.meta_path`` once put
    there: changing that list while another thread imports could make its import skip a finder."""

    active = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(fullname, self) if self.active and fullname == MODULE else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        module.__doc__ = f"Stand-in for {MODULE} (converters.ifc.mvd_parser): the real one loads on first use."
        names = {
            "LARK_AVAILABLE": importlib.util.find_spec("lark") is not None,  # as the real module computes it
            "MvdInfo": _real_mvd_info,
            "__getattr__": _forward,  # any other name (PEP 562)
            "__dir__": lambda: dir(_real()),
        }
        for name, value in names.items():
            setattr(module, name, value)


_finder = _DeferredModuleFinder()


def defer() -> bool:
    """Have ifcopenshell's MVD parser built on first use (module docstring); True if it will be."""
    with _lock:
        if "ifcopenshell" in sys.modules or MODULE in sys.modules or _finder.active:
            return False
        package = importlib.util.find_spec("ifcopenshell")  # a top-level name: nothing is imported
        locations = package.submodule_search_locations if package is not None else None
        if not locations or not any((Path(place) / "util" / "mvd_info.py").is_file() for place in locations):
            return False
        _finder.active = True
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
        return True


def _is_stand_in(module: object) -> bool:
    spec = getattr(module, "__spec__", None)
    return spec is not None and spec.loader is _finder


def _real() -> ModuleType:
    """The real module, imported in place of the stand-in (once); ``ifcopenshell.file`` then holds the
    real ``MvdInfo`` class too (it bound the stand-in's function by name)."""
    with _lock:
        _finder.active = False
        stand_in = sys.modules.get(MODULE)
        if _is_stand_in(stand_in):
            del sys.modules[MODULE]  # the import below also sets the package attribute
        real = importlib.import_module(MODULE)
        for holder in (stand_in, sys.modules.get("ifcopenshell.file")):
            if holder is not None and getattr(holder, "MvdInfo", None) is _real_mvd_info:
                holder.MvdInfo = real.MvdInfo  # type: ignore[attr-defined]
        return real


def _real_mvd_info(*args: Any, **kwargs: Any) -> Any:
    """An instance of the real ``MvdInfo`` (what the stand-in's ``MvdInfo`` is until first use)."""
    return _real().MvdInfo(*args, **kwargs)


def _forward(name: str) -> Any:
    if name.startswith("__"):  # the import system's probes (__path__, __spec__…) are not forwarded
        raise AttributeError(name)
    return getattr(_real(), name)
