"""Running independent tasks (tile contents, the footprint) on worker threads of the converting process.

``run_tasks(tasks, weights, jobs)`` calls every zero-argument callable and returns their results in
order. With ``jobs`` > 1 and more than one task, the calling thread and ``jobs - 1`` worker threads
share the tasks: the caller takes one share of the weight (largest tasks first, assigned before
starting), the workers the rest, heaviest first. The first exception of a task is raised in the caller.

Threads, not forked processes: the tasks are NumPy, shapely (GEOS) and file writing, which release
the GIL for most of their time, and they read the whole converted model. A forked writer copied
every page of it that it touched (reference counts, and its own allocations landing in the free
slots of inherited pages): ~100 MB of private pages on the 20 000-element model, which put the
conversion's peak above the C++ serializer's. Threads share the one heap. The tasks must not call
into ifcopenshell (the feature rows are computed before, in the caller: :mod:`.tiling`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable, Sequence
from typing import Any


def _release_freed_memory() -> None:
    """Give the pages of freed arrays back to the system (glibc keeps them in its arenas otherwise)."""
    libc = ctypes.util.find_library("c")
    if libc:
        ctypes.CDLL(libc).malloc_trim(0)


def _call(task: Callable[[], Any]) -> Any:
    result = task()
    _release_freed_memory()
    return result


def shares(weights: Sequence[float], jobs: int) -> tuple[list[int], list[int]]:
    """(the caller's tasks, the workers' tasks heaviest first): tasks go, largest first, to the least
    loaded of ``jobs`` bins; the caller takes bin 0."""
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    loads = [0.0] * jobs
    bins: list[list[int]] = [[] for _ in range(jobs)]
    for index in order:
        target = loads.index(min(loads))
        bins[target].append(index)
        loads[target] += weights[index]
    own = set(bins[0])
    return bins[0], [i for i in order if i not in own]


def run_tasks(tasks: Sequence[Callable[[], Any]], weights: Sequence[float], jobs: int) -> list[Any]:
    if jobs <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    from concurrent.futures import ThreadPoolExecutor  # here: 1.5-3 ms of imports a small model never needs

    own, order = shares(weights, min(jobs, len(tasks)))
    results: list[Any] = [None] * len(tasks)
    gc.collect()
    _release_freed_memory()
    with ThreadPoolExecutor(min(jobs - 1, len(order)), thread_name_prefix="ifc-writer") as pool:
        futures = [(index, pool.submit(_call, tasks[index])) for index in order]  # run in this order
        try:
            for index in own:
                results[index] = _call(tasks[index])
            for index, future in futures:
                results[index] = future.result()
        except BaseException:
            for _, future in futures:  # the ones not started yet
                future.cancel()
            raise
    return results
