"""Running independent tasks in forked worker processes (tile contents, the footprint).

``run_tasks(tasks, weights, jobs)`` calls every zero-argument callable and returns their results in
order. With ``jobs`` > 1 and more than one task, ``jobs`` forked workers share the tasks, heaviest
first: the callables and everything they reach (the converted elements) are inherited through the
fork, only results travel back (pickled). A worker is killed with the converting process
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


def run_tasks(tasks: Sequence[Callable[[], Any]], weights: Sequence[float], jobs: int) -> list[Any]:
    global _TASKS, _PARENT
    if jobs <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    order = sorted(range(len(tasks)), key=lambda i: -weights[i])
    _TASKS, _PARENT = tasks, os.getpid()
    results: list[Any] = [None] * len(tasks)
    gc.collect()
    gc.freeze()  # the inherited objects stay out of the workers' collections: their pages are not copied
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(jobs, len(tasks)), initializer=_start_worker) as pool:
            answers = pool.imap_unordered(_call, order)
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
