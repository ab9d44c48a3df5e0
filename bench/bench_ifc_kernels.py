"""Geometry kernels compared on the corpus: time, shapes produced, triangles (correctness proxy).

The converter needs every element (openings cut); a kernel that is faster but returns fewer shapes
than OpenCASCADE drops elements. Run::

    .venv/bin/python bench/bench_ifc_kernels.py --jobs 2 > bench/results/ifc_kernels.md
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path

import ifcopenshell
import ifcopenshell.geom

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ifc"
KERNELS = ("opencascade", "hybrid-cgal-simple", "cgal")


def tessellate(path: Path, kernel: str, jobs: int) -> tuple[float, int, int]:
    model = ifcopenshell.open(str(path))
    settings = ifcopenshell.geom.settings()
    settings.set("weld-vertices", False)
    started = time.perf_counter()
    iterator = ifcopenshell.geom.iterator(
        settings, model, jobs, geometry_library=kernel, exclude=("IfcSpace", "IfcOpeningElement")
    )
    shapes = triangles = 0
    if iterator.initialize():
        while True:
            shapes += 1
            triangles += len(iterator.get().geometry.faces) // 3
            if not iterator.next():
                break
    return time.perf_counter() - started, shapes, triangles


def _run(args: tuple[Path, str, int], queue: multiprocessing.Queue) -> None:
    queue.put(tessellate(*args))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    print("| file | " + " | ".join(f"{k} s / shapes / tris" for k in KERNELS) + " |")
    print("|---|" + "---|" * len(KERNELS))
    for path in sorted(CORPUS.glob("*.ifc")):
        cells = []
        for kernel in KERNELS:  # each in its own process: a kernel crash must not end the benchmark
            queue: multiprocessing.Queue = multiprocessing.Queue()
            process = multiprocessing.Process(target=_run, args=((path, kernel, args.jobs), queue))
            process.start()
            process.join(args.timeout)
            if process.is_alive():
                process.kill()
                cells.append("timeout")
            elif queue.empty():
                cells.append(f"crashed ({process.exitcode})")
            else:
                seconds, shapes, triangles = queue.get()
                cells.append(f"{seconds:.2f} / {shapes} / {triangles}")
        print(f"| {path.name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
