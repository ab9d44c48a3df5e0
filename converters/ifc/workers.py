"""Running independent tasks in forked worker processes (tile contents, the footprint).

``run_tasks(tasks, weights, jobs)`` calls every zero-argument callable and returns their results in
order. With ``jobs`` > 1 and more than one task, the calling process and ``jobs - 1`` forked workers
share the tasks: the caller takes one share of the weight (largest tasks first, assigned before
starting), the workers the rest, heaviest first. The callables and everything they reach (the
converted elements) are inherited through the fork, only results travel back (pickled). The caller
working too saves a worker's copy-on-write pages: every object a worker touches (reference counts)
is copied into it, tens of MB for a large model. A worker is killed with the converting process
(:func:`converters.process_guard.die_with_parent`); a task that gives no answer for
``TASK_TIMEOUT_S`` (a worker killed by the kernel loses its task) raises instead of waiting
forever. Call it from the thread that will outlive the workers (the converter's main thread).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

from converters.process_guard import die_with_parent

TASK_TIMEOUT_S = 900.0
_TASKS: Sequence[Callable[[], Any]] = ()
_PARENT = 0


def _start_worker() -> None:
    die_with_parent(_PARENT)


def _release_freed_memory() -> None:
    """Give the pages of freed arrays back to the system (glibc keeps them in its arenas otherwise)."""
    libc = ctypes.util.find_library("c")
    if libc:
        ctypes.CDLL(libc).malloc_trim(0)


def _call(index: int) -> tuple[int, Any]:
    result = _TASKS[index]()
    _release_freed_memory()
    return index, result


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
    global _TASKS, _PARENT
    if jobs <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    own, order = shares(weights, min(jobs, len(tasks)))
    _TASKS, _PARENT = tasks, os.getpid()
    results: list[Any] = [None] * len(tasks)
    gc.collect()
    _release_freed_memory()  # freed pages are not inherited (a worker reusing them would copy them)
    gc.freeze()  # the inherited objects stay out of the workers' collections: their pages are not copied
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(jobs - 1, len(order)), initializer=_start_worker) as pool:
            answers = pool.imap_unordered(_call, order)
            for index in own:
                results[index] = _call(index)[1]
            for _ in order:
                try:
                    index, result = answers.next(timeout=TASK_TIMEOUT_S)
                except multiprocessing.TimeoutError as error:  # a worker died (its task is lost) or hangs
                    raise RuntimeError(f"a tile writer gave no answer for {TASK_TIMEOUT_S:.0f} s") from error
                results[index] = result
    finally:
        _TASKS = ()
        gc.unfreeze()
    return results
