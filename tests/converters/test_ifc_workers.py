"""converters.ifc.workers.run_tasks: results in task order, work done in forked workers, errors raised."""

from __future__ import annotations

import os
from functools import partial

import pytest

from converters.ifc.workers import run_tasks


def _square_and_pid(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def test_results_come_back_in_order_from_workers() -> None:
    tasks = [partial(_square_and_pid, i) for i in range(8)]
    results = run_tasks(tasks, weights=list(range(8)), jobs=2)
    assert [r[0] for r in results] == [i * i for i in range(8)]
    assert os.getpid() not in {r[1] for r in results}  # forked workers did the work
    serial = run_tasks(tasks, weights=list(range(8)), jobs=1)
    assert [r[0] for r in serial] == [i * i for i in range(8)] and {r[1] for r in serial} == {os.getpid()}


def _fail() -> None:
    raise ValueError("broken content")


def test_a_failing_task_raises_in_the_caller() -> None:
    with pytest.raises(ValueError, match="broken content"):
        run_tasks([partial(_square_and_pid, 1), _fail], weights=[1, 2], jobs=2)
