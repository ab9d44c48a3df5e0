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
So each child runs hybrid-cgal-simple on its share and then, in the same child, OpenCASCADE on what
it did not produce (openings cut, clippings); with ``jobs`` > 1 the elements with openings go
straight to OpenCASCADE. The shares are balanced by expected cost, clippings found up front
(:func:`plan`, :func:`with_booleans`): Roof-01's 12 clipped walls and slabs are most of its time, and
a second round of children after the first left them on one core. The report says how many each
kernel produced.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, Final

import ifcopenshell
import ifcopenshell.geom
import numpy as np

from converters.ifc.shapes import ElementShape, ShapeGeometry, ShapeMaterial, Skipped
from converters.process_guard import die_with_parent

FAST_KERNEL: Final = "hybrid-cgal-simple"
KERNEL: Final = "opencascade"  # the reference: tessellates everything the fast kernel leaves out
EXCLUDED_ALWAYS = ("IfcOpeningElement", "IfcAnnotation", "IfcGrid", "IfcVirtualElement")
INIT_ALLOWANCE_S = 60.0  # the iterator's set-up before its first shape, plus 2 ms per element
INIT_ALLOWANCE_PER_ELEMENT_S = 0.002
REFERENCE_WEIGHT: Final = 10  # OpenCASCADE's cost per element, in fast-kernel elements
MIN_WEIGHT_PER_CHILD = 100  # of cost (fast-kernel elements) per child: fewer children below
BATCH_SHAPES = 64
BATCH_SECONDS = 0.1


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
    or ``BATCH_SECONDS``, so that a slow element never holds back finished ones for long).

    ``spec`` is (fast ids, reference ids): the fast kernel runs on the first, then OpenCASCADE on
    the second plus whatever the fast kernel did not produce (booleans it leaves out), in the same
    child: no second round of children waiting for the slowest of the first."""
    fast, reference = spec
    cache: dict[str, str | None] = {}
    produced: set[int] = set()
    if fast:
        _iterate(model, FAST_KERNEL, fast, conn, cache, produced)
    rest = [*(i for i in fast if i not in produced), *reference]
    if rest:
        conn.send(("reference", len(rest)))  # the parent allows for the second iterator's set-up
        _iterate(model, KERNEL, rest, conn, cache, produced)
    conn.send(("log", ifcopenshell.get_log()))


def _iterate(
    model: ifcopenshell.file,
    kernel: str,
    include: list[int],
    conn: Connection,
    cache: dict[str, str | None],
    produced: set[int],
) -> None:
    sent: set[str] = set()  # geometries sent by this kernel (each kernel sends its own)
    entities = [model.by_id(i) for i in include]
    library: Any = kernel  # the stubs' Literal lacks "hybrid-cgal-simple", which the iterator accepts
    iterator = ifcopenshell.geom.iterator(_settings(), model, 1, geometry_library=library, include=entities)
    batch: list[tuple[Any, ...]] = []
    flushed = time.monotonic()
    if iterator.initialize():
        while True:
            message = _shape_message(iterator.get(), model, cache, sent)
            produced.add(message[1])
            batch.append(message)
            if len(batch) >= BATCH_SHAPES or time.monotonic() - flushed > BATCH_SECONDS:
                conn.send(("batch", kernel, batch))
                batch, flushed = [], time.monotonic()
            if not iterator.next():
                break
    if batch:
        conn.send(("batch", kernel, batch))


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


_SHAPE_OWNERS = ("IfcRepresentationItem", "IfcRepresentation", "IfcProductRepresentation", "IfcRepresentationMap")


def with_booleans(model: ifcopenshell.file, expected: dict[int, Any]) -> set[int]:
    """Expected elements whose shape holds a boolean result (clippings of walls and slabs under a roof):
    the fast kernel leaves them out and OpenCASCADE tessellates them after it, at ~10× the cost.
    Found upwards from the boolean items (none in most large models: no cost there); used only to
    weigh each child's share, the kernels run as before."""
    try:
        stack = list(model.by_type("IfcBooleanResult"))
    except RuntimeError:  # a schema without it
        return set()
    found: set[int] = set()
    visited: set[int] = set()
    while stack:
        for parent in model.get_inverse(stack.pop()):
            step_id = parent.id()
            if step_id in visited:
                continue
            visited.add(step_id)
            if step_id in expected:
                found.add(step_id)
            elif not parent.is_a("IfcStyledItem") and any(parent.is_a(owner) for owner in _SHAPE_OWNERS):
                stack.append(parent)
    return found


def tessellate(
    model: ifcopenshell.file,
    jobs: int,
    element_timeout_s: float,
    include_spaces: bool,
    stats: dict[str, Any] | None = None,
    expected: dict[int, Any] | None = None,
    started: Callable[[], None] | None = None,
) -> Iterator[ElementShape | Skipped]:
    """Yield every expected element's shape (``expected``: :func:`expected_elements`, computed
    when not given), or a :class:`Skipped` with the reason. ``started`` (if given) is called once the
    children are forked: the caller's own work meanwhile (imports, georeferencing) runs beside them,
    and is not in their copy of the heap; an exception from it stops the children.

    Each child runs the fast kernel on its share, then OpenCASCADE on what the fast kernel did not
    produce plus, when ``jobs`` > 1, its share of the elements with openings (the fast kernel would
    leave them out). The shares are balanced by the expected cost (:func:`plan`).
    ``stats`` (if given) receives the kernels and how many elements each produced.
    """
    if expected is None:
        expected = expected_elements(model, include_spaces)
    seen: set[int] = set()
    geometries: dict[str, ShapeGeometry] = {}
    logs: list[str] = []
    counts = {FAST_KERNEL: 0, KERNEL: 0}
    voided = with_openings(model) if jobs > 1 else set()
    clipped = with_booleans(model, expected) if jobs > 1 else set()
    shares = plan(list(expected), voided, clipped, jobs)
    yield from _pass(model, shares, expected, element_timeout_s, seen, geometries, logs, counts, started)
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


def plan(ids: list[int], voided: set[int], clipped: set[int], jobs: int) -> list[tuple[list[int], list[int]]]:
    """(fast-kernel ids, OpenCASCADE ids) for each child. An element costs 1 with the fast kernel,
    ``REFERENCE_WEIGHT`` with OpenCASCADE (``voided``), both when the fast kernel will leave it out
    (``clipped``). One child per ``MIN_WEIGHT_PER_CHILD`` of cost, at most ``jobs`` (a child costs
    ~15 ms to start: small fast-only models use one); heaviest elements first to the least loaded
    child, so equal elements are dealt round-robin; each share keeps the model's order."""

    def weight(i: int) -> int:
        return REFERENCE_WEIGHT if i in voided else 1 + REFERENCE_WEIGHT if i in clipped else 1

    weights = [weight(i) for i in ids]
    count = max(1, min(jobs, round(sum(weights) / MIN_WEIGHT_PER_CHILD)))
    loads = [0] * count
    owner = [0] * len(ids)
    for index in sorted(range(len(ids)), key=lambda i: -weights[i]):
        child = loads.index(min(loads))
        loads[child] += weights[index]
        owner[index] = child
    shares: list[tuple[list[int], list[int]]] = [([], []) for _ in range(count)]
    for index, step_id in enumerate(ids):
        shares[owner[index]][1 if step_id in voided else 0].append(step_id)
    return [share for share in shares if share[0] or share[1]]


def _pass(
    model: ifcopenshell.file,
    shares: list[tuple[list[int], list[int]]],
    expected: dict[int, Any],
    element_timeout_s: float,
    seen: set[int],
    geometries: dict[str, ShapeGeometry],
    logs: list[str],
    counts: dict[str, int],
    started: Callable[[], None] | None = None,
) -> Iterator[ElementShape | Skipped]:
    """Each share of ``shares`` in a watched child, all at once (then ``started()``); a child that
    hangs or crashes has the rest of its share done one by one (OpenCASCADE)."""
    children: dict[Connection, tuple[Any, list[int], float]] = {}
    for fast, reference in shares:
        process, conn = _start(model, "all", (fast, reference))
        share = fast + reference
        allowance = INIT_ALLOWANCE_S + INIT_ALLOWANCE_PER_ELEMENT_S * len(share)
        children[conn] = (process, share, time.monotonic() + element_timeout_s + allowance)
    pending_one_by_one: list[int] = []
    try:
        if started is not None:
            started()
        while children:
            now = time.monotonic()
            for conn, (process, share, deadline) in list(children.items()):
                if now > deadline:  # hung: no element for too long
                    _stop(process)
                    del children[conn]
                    pending_one_by_one += [i for i in share if i not in seen]
            if not children:
                break
            ready = wait(list(children), timeout=max(0.0, min(c[2] for c in children.values()) - now))
            for answered in ready:
                assert isinstance(answered, Connection), "only the children's pipes are waited on"
                conn = answered
                process, share, _ = children[conn]
                try:
                    message = conn.recv()
                except EOFError:  # the child crashed (a kernel segfault): its rest one by one
                    _stop(process)
                    del children[conn]
                    pending_one_by_one += [i for i in share if i not in seen]
                    continue
                children[conn] = (process, share, time.monotonic() + element_timeout_s)
                if message[0] == "batch":
                    kernel = message[1]
                    for shape in message[2]:
                        if shape[1] in expected and shape[1] not in seen:
                            seen.add(shape[1])
                            counts[kernel] += 1
                            yield _to_shape(shape, geometries)
                elif message[0] == "reference":
                    allowance = INIT_ALLOWANCE_S + INIT_ALLOWANCE_PER_ELEMENT_S * message[1]
                    children[conn] = (process, share, time.monotonic() + element_timeout_s + allowance)
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
