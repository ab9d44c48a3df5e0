"""ifcopenshell's MVD-description parser, built on first use instead of at ifcopenshell's import.

``ifcopenshell.file`` imports ``ifcopenshell.util.mvd_info``, whose import builds a Lark LALR parser
for the header's model view definition (about 18 ms of CPU, measured with ``-X importtime``). Only
``ifcopenshell.file.mvd`` uses it, and a conversion never reads it. In a small model's conversion
that build is a tenth of the process's critical path (``bench/README.md``, IFC section).

:func:`defer` has the next import of ``ifcopenshell.util.mvd_info`` produce a stand-in module: it holds
``LARK_AVAILABLE`` as the real module computes it, and ``MvdInfo`` as a function that imports the
real module and returns its ``MvdInfo``. Any other name is forwarded the same way. The stand-in is made by
the import system itself, from a meta-path finder, so ``import ifcopenshell.util.mvd_info`` and the
package attribute work as usual. Once the real module has been imported, the finder is gone and the
real module replaces the stand-in in ``sys.modules`` and on the package. ``file.mvd`` then returns the
same object as without the deferral (``tests/converters/test_ifc_mvd_parser.py``).

The conversion process calls it (:mod:`converters.__main__`), before anything imports ifcopenshell.
In a process that has imported ifcopenshell already it does nothing. It does the same if the installed
ifcopenshell has no such module.
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
_lock = threading.Lock()


class _DeferredModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds :data:`MODULE` as the stand-in until the real module is wanted."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(fullname, self) if fullname == MODULE else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        module.__doc__ = f"Stand-in for {MODULE} (converters.ifc.mvd_parser): the real one loads on first use."
        names = {
            "LARK_AVAILABLE": importlib.util.find_spec("lark") is not None,  # as the real module computes it
            "MvdInfo": _real_mvd_info,
            "__getattr__": _forward,  # any other name (PEP 562)
        }
        for name, value in names.items():
            setattr(module, name, value)


_finder = _DeferredModuleFinder()


def defer() -> bool:
    """Have ifcopenshell's MVD parser built on first use (module docstring); True if it will be."""
    if "ifcopenshell" in sys.modules or MODULE in sys.modules or _finder in sys.meta_path:
        return False
    package = importlib.util.find_spec("ifcopenshell")  # a top-level name: nothing is imported
    locations = package.submodule_search_locations if package is not None else None
    if not locations or not any((Path(place) / "util" / "mvd_info.py").is_file() for place in locations):
        return False
    sys.meta_path.insert(0, _finder)
    return True


def _real() -> ModuleType:
    """The real module, imported in place of the stand-in (once)."""
    with _lock:
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
            sys.modules.pop(MODULE, None)  # the stand-in; the import below also sets the package attribute
        return importlib.import_module(MODULE)


def _real_mvd_info(*args: Any, **kwargs: Any) -> Any:
    return _real().MvdInfo(*args, **kwargs)


def _forward(name: str) -> Any:
    if name.startswith("__"):  # the import system's probes (__path__, __spec__…) are not forwarded
        raise AttributeError(name)
    return getattr(_real(), name)
