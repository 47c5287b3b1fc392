"""Worker processes that die with their parent.

joblib's loky workers outlive a parent killed with SIGKILL (nine killed retrains left twenty of them
running for minutes). On Linux each worker asks the kernel for SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``); elsewhere the pool is joblib's default.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from typing import Any

from joblib import parallel_config

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs first in every worker: the kernel kills it when its parent process dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_pool(n_jobs: int | None = None) -> Any:
    """A ``joblib.parallel_config`` whose loky workers die with this process (``with worker_pool(): …``)."""
    return parallel_config(backend="loky", n_jobs=n_jobs, initializer=die_with_parent)
