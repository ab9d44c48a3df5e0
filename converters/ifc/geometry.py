"""Tessellation with ``ifcopenshell.geom.iterator`` in watched child processes.

The elements are dealt to ``jobs`` forked children, each running a *single-threaded* iterator over
its share and streaming one message per element to the parent. (The iterator's own threads scale
badly: on the generated 10 000-element model, 2 threads took 9.8 s wall and 11.3 s CPU where one
thread took 1.9 s; two processes with one thread each use both cores.) If a child sends no
element within ``element_timeout_s`` (a hung boolean, a pathological surface) or dies, it is
killed and the rest of its share is tessellated one at a time in a new child that announces each
element before it starts; an element that exceeds the timeout there is
skipped with reason ``timeout`` and the rest continue. Elements for which the kernel produces no
shape are reported as skipped with the kernel's log message.

The child is forked (it shares the parsed model, no second parse): call the converter from a
process without other threads (the platform runs conversions in a dedicated child process).

Kernels (``bench/bench_ifc_kernels.py`` on the corpus): hybrid-cgal-simple is 4-20×
faster than OpenCASCADE (Sverchok facades 0.8 s vs 18.4 s, Office_A 2.0 s vs 13.2 s) and every
shape it produces matches OpenCASCADE's (bounding box within 1 cm, surface area within 1 %), but
it leaves out elements that need boolean operations (11 of 83 in FZK-Haus, 64 of 803 in Office_A,
13 of 24 in Roof-01: walls with openings or clippings). cgal alone is no faster than OpenCASCADE.
So pass 1 runs hybrid-cgal-simple on everything and pass 2 runs OpenCASCADE on the elements pass 1
did not produce (openings cut); the report says how many each kernel produced.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Final

import ifcopenshell
import ifcopenshell.geom
import numpy as np

from converters.process_guard import die_with_parent

FAST_KERNEL: Final = "hybrid-cgal-simple"
KERNEL: Final = "opencascade"  # the reference: tessellates everything the fast kernel leaves out
EXCLUDED_ALWAYS = ("IfcOpeningElement", "IfcAnnotation", "IfcGrid", "IfcVirtualElement")
INIT_ALLOWANCE_S = 60.0  # the iterator's set-up before its first shape, plus 2 ms per element
INIT_ALLOWANCE_PER_ELEMENT_S = 0.002
MIN_ELEMENTS_PER_CHILD = 200  # fewer elements than this per child: fewer children
BATCH_SHAPES = 64
BATCH_SECONDS = 0.1


@dataclass(slots=True)
class ShapeMaterial:
    name: str
    rgba: tuple[float, float, float, float]


@dataclass(slots=True)
class ShapeGeometry:
    """One tessellated representation in its object's local coordinates (shared by mapped items)."""

    key: str
    positions: np.ndarray  # (N, 3) float64, metres, object coordinates
    normals: np.ndarray | None  # (N, 3) float32
    triangles: np.ndarray  # (M, 3) int32
    triangle_materials: np.ndarray  # (M,) int32 index into materials, -1 none
    materials: list[ShapeMaterial | None]  # None: no style, use the class default


@dataclass(slots=True)
class ElementShape:
    step_id: int
    guid: str
    ifc_class: str
    geometry: ShapeGeometry
    matrix: np.ndarray  # 4×4 object → world (engineering metres)

    @property
    def positions(self) -> np.ndarray:
        """World (engineering) coordinates."""
        world: np.ndarray = self.geometry.positions @ self.matrix[:3, :3].T + self.matrix[:3, 3]
        return world

    @property
    def triangles(self) -> np.ndarray:
        return self.geometry.triangles


@dataclass(slots=True)
class Skipped:
    step_id: int
    guid: str
    ifc_class: str
    reason: str


def excluded_classes(include_spaces: bool) -> tuple[str, ...]:
    return EXCLUDED_ALWAYS if include_spaces else (*EXCLUDED_ALWAYS, "IfcSpace")


def expected_elements(model: ifcopenshell.file, include_spaces: bool) -> dict[int, Any]:
    """Products with a representation that the iterator should tessellate."""
    skip: set[int] = set()
    for name in excluded_classes(include_spaces):  # by_type includes subtypes
        try:
            skip.update(e.id() for e in model.by_type(name))
        except RuntimeError:  # a class the schema does not have
            continue
    return {p.id(): p for p in model.by_type("IfcProduct") if p.id() not in skip and p.Representation is not None}


def _settings() -> ifcopenshell.geom.settings:
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", False)  # object coordinates + matrix: mapped items share geometry
    settings.set("weld-vertices", False)
    settings.set("apply-default-materials", False)
    return settings


def _alpha(material: Any) -> float:
    """Opacity of a kernel material: 1 − transparency when the style states one. ``has_transparency`` is a
    method in ifcopenshell 0.9 (a property before), and an unstated transparency reads NaN: both mean opaque."""
    stated = material.has_transparency
    if callable(stated):
        stated = stated()
    transparency = float(material.transparency)
    if not stated or not math.isfinite(transparency):
        return 1.0
    return min(1.0, max(0.0, 1.0 - transparency))


def _style_name(model: ifcopenshell.file, name: str, cache: dict[str, str | None]) -> str | None:
    """The IfcSurfaceStyle name behind a kernel material name like ``IfcSurfaceStyleShading-42``;
    None for the kernel's defaults (``DefaultMaterial``, class names)."""
    if name in cache:
        return cache[name]
    resolved: str | None = None
    match = re.fullmatch(r"(Ifc\w+)-(\d+)", name)
    if match:
        try:
            entity = model.by_id(int(match.group(2)))
            styles = (
                [entity]
                if entity.is_a("IfcSurfaceStyle")
                else [e for e in model.get_inverse(entity) if e.is_a("IfcSurfaceStyle")]
            )
            resolved = (styles[0].Name if styles else None) or name
        except RuntimeError:
            resolved = name
    elif name != "DefaultMaterial" and not name.startswith("Ifc"):
        resolved = name
    cache[name] = resolved
    return resolved


def _shape_message(
    shape: Any, model: ifcopenshell.file, cache: dict[str, str | None], sent: set[str]
) -> tuple[Any, ...]:
    """One element: its matrix, plus its geometry the first time that geometry is seen. Buffers
    travel as bytes (pickling bytes is several times cheaper than pickling arrays)."""
    geometry = shape.geometry
    matrix = tuple(shape.transformation.matrix)
    key = str(geometry.id)
    if key in sent:
        return ("shape", shape.id, shape.guid, shape.type, key, matrix, None)
    sent.add(key)
    verts = geometry.verts_buffer
    normals = geometry.normals_buffer
    materials: list[tuple[str, tuple[float, ...]] | None] = []
    for material in geometry.materials:
        name = _style_name(model, material.name, cache)
        if name is None:
            materials.append(None)  # the kernel's default: the parent picks a colour per class
            continue
        diffuse = material.diffuse
        materials.append((name, (diffuse.r(), diffuse.g(), diffuse.b(), _alpha(material))))
    payload = (
        verts,
        normals if len(normals) == len(verts) else None,
        geometry.faces_buffer,
        geometry.material_ids_buffer,
        materials,
    )
    return ("shape", shape.id, shape.guid, shape.type, key, matrix, payload)


def _iterate_all(model: ifcopenshell.file, spec: tuple[Any, ...], conn: Connection) -> None:
    """Stream the shapes of ``spec``'s elements in batches (flushed every ``BATCH_SHAPES`` shapes
    or ``BATCH_SECONDS``, so that a slow element never holds back finished ones for long)."""
    jobs, kernel, excluded, include = spec
    if include is None:
        iterator = ifcopenshell.geom.iterator(_settings(), model, jobs, geometry_library=kernel, exclude=excluded)
    else:
        entities = [model.by_id(i) for i in include]
        iterator = ifcopenshell.geom.iterator(_settings(), model, jobs, geometry_library=kernel, include=entities)
    cache: dict[str, str | None] = {}
    sent: set[str] = set()
    batch: list[tuple[Any, ...]] = []
    flushed = time.monotonic()
    if iterator.initialize():
        while True:
            batch.append(_shape_message(iterator.get(), model, cache, sent))
            if len(batch) >= BATCH_SHAPES or time.monotonic() - flushed > BATCH_SECONDS:
                conn.send(("batch", batch))
                batch, flushed = [], time.monotonic()
            if not iterator.next():
                break
    if batch:
        conn.send(("batch", batch))
    conn.send(("log", ifcopenshell.get_log()))


def _iterate_one_by_one(model: ifcopenshell.file, ids: list[int], conn: Connection) -> None:
    settings = _settings()
    cache: dict[str, str | None] = {}
    sent: set[str] = set()
    for step_id in ids:
        conn.send(("start", step_id))
        try:
            shape = ifcopenshell.geom.create_shape(settings, model.by_id(step_id), geometry_library=KERNEL)
            conn.send(_shape_message(shape, model, cache, sent))
        except Exception as error:
            conn.send(("failed", step_id, str(error).strip().splitlines()[0][:200] if str(error).strip() else "error"))
    conn.send(("log", ifcopenshell.get_log()))


def _child(target: str, model: ifcopenshell.file, arg: Any, conn: Connection, parent: int) -> None:
    die_with_parent(parent)  # killed with the converting process, even when that one is SIGKILLed
    try:
        if target == "all":
            _iterate_all(model, arg, conn)
        else:
            _iterate_one_by_one(model, arg, conn)
        conn.send(("done",))
    finally:
        conn.close()
        os._exit(0)  # skip interpreter teardown in the forked child


def _start(model: ifcopenshell.file, target: str, arg: Any) -> tuple[Any, Connection]:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(target, model, arg, sender, os.getpid()), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def _stop(process: Any) -> None:
    if process.is_alive():
        process.kill()
    process.join(5)


def _to_shape(message: tuple[Any, ...], geometries: dict[str, ShapeGeometry]) -> ElementShape:
    _, step_id, guid, ifc_class, key, matrix, payload = message
    if payload is not None:
        verts, normals, faces, material_ids, materials = payload
        geometries[key] = ShapeGeometry(
            key,
            np.frombuffer(verts, dtype=np.float64).reshape(-1, 3),
            None if normals is None else np.frombuffer(normals, dtype=np.float64).reshape(-1, 3).astype(np.float32),
            np.frombuffer(faces, dtype=np.int32).reshape(-1, 3),
            np.frombuffer(material_ids, dtype=np.int32),
            [ShapeMaterial(*m) if m else None for m in materials],
        )
    return ElementShape(step_id, guid, ifc_class, geometries[key], np.array(matrix).reshape(4, 4, order="F"))


def _log_reasons(log: str) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for line in log.splitlines():
        match = re.search(r"#(\d+)=", line)
        if match and ("Error" in line or "Failed" in line or "failed" in line):
            reasons.setdefault(int(match.group(1)), line.strip()[:200])
    return reasons


def with_openings(model: ifcopenshell.file) -> set[int]:
    """Elements with voids (IfcRelVoidsElement): the fast kernel leaves their boolean cuts out."""
    return {rel.RelatingBuildingElement.id() for rel in model.by_type("IfcRelVoidsElement")}


def tessellate(
    model: ifcopenshell.file,
    jobs: int,
    element_timeout_s: float,
    include_spaces: bool,
    stats: dict[str, Any] | None = None,
    expected: dict[int, Any] | None = None,
) -> Iterator[ElementShape | Skipped]:
    """Yield every expected element's shape (``expected``: :func:`expected_elements`, computed
    when not given), or a :class:`Skipped` with the reason.

    Pass 1 runs the fast kernel on the elements without openings and, at the same time when
    ``jobs`` > 1, OpenCASCADE on those with openings (the fast kernel would leave them out);
    pass 2 runs OpenCASCADE on whatever pass 1 did not produce (other booleans, clippings).
    ``stats`` (if given) receives the kernels and how many elements each produced.
    """
    if expected is None:
        expected = expected_elements(model, include_spaces)
    excluded = excluded_classes(include_spaces)
    seen: set[int] = set()
    geometries: dict[str, ShapeGeometry] = {}
    logs: list[str] = []
    counts = {FAST_KERNEL: 0, KERNEL: 0}
    voided = with_openings(model) if jobs > 1 else set()
    first = [(FAST_KERNEL, [i for i in expected if i not in voided]), (KERNEL, [i for i in expected if i in voided])]
    share = _kernel_jobs(jobs, len(first[0][1]), len(first[1][1]))
    specs = [(kernel, ids, n) for (kernel, ids), n in zip(first, share, strict=True) if ids]
    yield from _pass(model, specs, excluded, expected, element_timeout_s, seen, geometries, logs, counts)
    rest = [i for i in expected if i not in seen]
    if rest:
        yield from _pass(
            model, [(KERNEL, rest, jobs)], excluded, expected, element_timeout_s, seen, geometries, logs, counts
        )
    if stats is not None:
        stats.update(
            {
                "fast": FAST_KERNEL,
                "fast_elements": counts[FAST_KERNEL],
                "reference": KERNEL,
                "reference_elements": counts[KERNEL],
            }
        )
    reasons = _log_reasons("\n".join(logs))
    for step_id, element in expected.items():
        if step_id not in seen:
            seen.add(step_id)
            yield Skipped(step_id, element.GlobalId, element.is_a(), reasons.get(step_id, "no geometry produced"))


def _kernel_jobs(jobs: int, fast: int, reference: int) -> tuple[int, int]:
    """Children for the fast kernel and for OpenCASCADE sharing ``jobs`` (OpenCASCADE costs ~10×
    more per element); one each at least when both have work."""
    if not reference:
        return jobs, 0
    if not fast:
        return 0, jobs
    reference_jobs = min(jobs - 1, max(1, round(jobs * 10 * reference / (10 * reference + fast))))
    return max(1, jobs - reference_jobs), max(1, reference_jobs)


def _chunks(ids: list[int], jobs: int) -> list[list[int]]:
    """``ids`` dealt round-robin to ``jobs`` children (neighbouring elements cost alike)."""
    count = max(1, min(jobs, len(ids) // MIN_ELEMENTS_PER_CHILD or 1))
    return [ids[i::count] for i in range(count)]


def _pass(
    model: ifcopenshell.file,
    specs: list[tuple[str, list[int], int]],
    excluded: tuple[str, ...],
    expected: dict[int, Any],
    element_timeout_s: float,
    seen: set[int],
    geometries: dict[str, ShapeGeometry],
    logs: list[str],
    counts: dict[str, int],
) -> Iterator[ElementShape | Skipped]:
    """Each (kernel, ids, jobs) of ``specs`` in that many watched children at once, each a
    single-threaded iterator over its share; a child that hangs or crashes has the rest of its
    share done one by one (OpenCASCADE)."""
    children: dict[Connection, tuple[Any, list[int], float, str]] = {}
    for kernel, ids, jobs in specs:
        for chunk in _chunks(ids, jobs):
            process, conn = _start(model, "all", (1, kernel, excluded, chunk))
            allowance = INIT_ALLOWANCE_S + INIT_ALLOWANCE_PER_ELEMENT_S * len(chunk)
            children[conn] = (process, chunk, time.monotonic() + element_timeout_s + allowance, kernel)
    pending_one_by_one: list[int] = []
    try:
        while children:
            now = time.monotonic()
            for conn, (process, chunk, deadline, _) in list(children.items()):
                if now > deadline:  # hung: no element for too long
                    _stop(process)
                    del children[conn]
                    pending_one_by_one += [i for i in chunk if i not in seen]
            if not children:
                break
            ready = wait(list(children), timeout=max(0.0, min(c[2] for c in children.values()) - now))
            for answered in ready:
                assert isinstance(answered, Connection), "only the children's pipes are waited on"
                conn = answered
                process, chunk, _, kernel = children[conn]
                try:
                    message = conn.recv()
                except EOFError:  # the child crashed (a kernel segfault): its rest one by one
                    _stop(process)
                    del children[conn]
                    pending_one_by_one += [i for i in chunk if i not in seen]
                    continue
                children[conn] = (process, chunk, time.monotonic() + element_timeout_s, kernel)
                if message[0] == "batch":
                    for shape in message[1]:
                        if shape[1] in expected and shape[1] not in seen:
                            seen.add(shape[1])
                            counts[kernel] += 1
                            yield _to_shape(shape, geometries)
                elif message[0] == "log":
                    logs.append(message[1])
                elif message[0] == "done":
                    _stop(process)
                    del children[conn]
    finally:
        for process, *_ in children.values():
            _stop(process)
    if pending_one_by_one:
        before = len(seen)
        yield from _one_by_one(model, pending_one_by_one, element_timeout_s, seen, geometries)
        counts[KERNEL] += len(seen) - before


def _one_by_one(
    model: ifcopenshell.file,
    ids: list[int],
    element_timeout_s: float,
    seen: set[int],
    geometries: dict[str, ShapeGeometry],
) -> Iterator[ElementShape | Skipped]:
    remaining = list(ids)
    while remaining:
        process, conn = _start(model, "one", remaining)
        current: int | None = None
        try:
            while True:
                if not conn.poll(element_timeout_s):
                    break
                try:
                    message = conn.recv()
                except EOFError:
                    break
                if message[0] == "start":
                    current = message[1]
                elif message[0] == "shape":
                    seen.add(message[1])
                    current = None
                    yield _to_shape(message, geometries)
                elif message[0] == "failed":
                    seen.add(message[1])
                    element = model.by_id(message[1])
                    current = None
                    yield Skipped(message[1], element.GlobalId, element.is_a(), message[2])
                elif message[0] == "done":
                    return
        finally:
            _stop(process)
        if current is None:
            return
        seen.add(current)
        element = model.by_id(current)
        yield Skipped(current, element.GlobalId, element.is_a(), f"timeout: took longer than {element_timeout_s:g} s")
        remaining = remaining[remaining.index(current) + 1 :]
