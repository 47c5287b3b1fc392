"""Worker processes that die with their parent.

joblib's loky workers outlive a parent killed with SIGKILL (nine killed retrains left twenty of them
running for minutes). On Linux each worker asks the kernel for SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``); elsewhere the pool is joblib's default.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs first in every worker: the kernel kills it when its parent process dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_pool(n_jobs: int | None = None) -> Any:
    """A ``joblib.parallel_config`` whose loky workers die with this process (``with worker_pool(): …``)."""
    from joblib import parallel_config  # training only: scoring never imports joblib

    return parallel_config(backend="loky", n_jobs=n_jobs, initializer=die_with_parent)


def forked_pool(n_jobs: int) -> Executor:
    """``n_jobs`` worker processes forked from this one where the platform forks (Linux): they start in
    milliseconds with everything this process has imported and loaded (the verified model included), where
    a fresh interpreter takes seconds to import scikit-learn. Each dies with its parent. Elsewhere the
    workers are spawned and load what they need themselves."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context(method), initializer=die_with_parent)
