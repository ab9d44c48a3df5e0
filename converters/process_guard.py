"""Child processes that die with their parent (Linux ``prctl(PR_SET_PDEATHSIG)``).

Usage, in the child right after fork (a forked ``multiprocessing`` target, or ``preexec_fn``)::

    parent = os.getpid()                      # in the parent, before forking
    ...
    die_with_parent(parent)                   # in the child: killed (SIGKILL) when the parent dies

Why this shape:

- libc is loaded **here, at import**, in the parent: ``ctypes.CDLL`` after a fork of a process with
  other threads can deadlock (the dynamic loader's lock may have been held by another thread at the
  fork), and a forked child should do as little as possible before its real work.
- the death signal is armed with ``prctl`` in the child: it is not inherited across fork, so the
  parent cannot set it for its children.
- the parent may already have died between the fork and the ``prctl`` call; the kernel then never
  sends the signal, so the child compares ``getppid()`` with the parent's pid and exits at once.
- the kernel sends the signal when the parent *thread* that forked the child exits: fork from a
  thread that lives as long as the child should (the main thread, in the converters).

Without libc or ``prctl`` (not Linux) :func:`die_with_parent` returns False and does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1

try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Arm ``sig`` for when the parent dies; True when armed. With ``parent_pid`` (the parent's pid
    taken before the fork), a child whose parent is already gone exits immediately."""
    if _LIBC is None or not hasattr(_LIBC, "prctl"):
        return False
    if _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the signal was armed: nobody would kill us
    return True
