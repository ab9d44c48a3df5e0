"""converters.ifc.workers.run_tasks: results in task order, work shared with a worker thread, errors raised."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from converters.ifc.workers import run_tasks, shares


def _square_and_thread(value: int) -> tuple[int, int]:
    return value * value, threading.get_ident()


def test_results_come_back_in_order_from_workers() -> None:
    tasks = [partial(_square_and_thread, i) for i in range(8)]
    results = run_tasks(tasks, weights=list(range(8)), jobs=2)
    assert [r[0] for r in results] == [i * i for i in range(8)]
    threads = {r[1] for r in results}
    caller = threading.get_ident()
    assert caller in threads and len(threads) == 2  # the caller took a share, one worker thread the rest
    serial = run_tasks(tasks, weights=list(range(8)), jobs=1)
    assert [r[0] for r in serial] == [i * i for i in range(8)] and {r[1] for r in serial} == {caller}


def _fail() -> None:
    raise ValueError("broken content")


def test_a_failing_task_raises_in_the_caller() -> None:
    with pytest.raises(ValueError, match="broken content"):  # the caller's own task
        run_tasks([partial(_square_and_thread, 1), _fail], weights=[1, 2], jobs=2)
    with pytest.raises(ValueError, match="broken content"):  # the worker's task
        run_tasks([partial(_square_and_thread, 1), _fail], weights=[2, 1], jobs=2)


def test_the_caller_takes_one_balanced_share_and_the_workers_the_rest_heaviest_first() -> None:
    own, workers = shares([240, 480, 240], 2)  # footprint, coarse root, one leaf (20 000-element model)
    assert own == [1] and workers == [0, 2]
    own, workers = shares([5, 1, 9, 3, 7, 2], 3)
    assert sorted(own + workers) == list(range(6)) and workers == sorted(workers, key=lambda i: -[5, 1, 9, 3, 7, 2][i])
    assert own == [2]  # the largest task alone is a third of the weight: the caller does only that one
