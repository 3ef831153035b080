"""Helpers shared by the bench scripts: run a command and report wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    returncode: int
    cpu_seconds: float = 0.0  # user + system, all threads: the wall time on an idle machine


def measure(cmd: list[str], *, env: dict[str, str] | None = None) -> Measured:
    """Run `cmd`; wall-clock seconds, CPU seconds and the child's peak resident memory (MB, from
    wait4). On a loaded machine wall time also measures waiting for a core; CPU time does not."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), cpu)


def crmkit(*args: str) -> list[str]:
    return [str(VENV_BIN / "crmkit"), *args]


def stage_timer(timings: list[tuple[str, float, float]]) -> Callable[[str, Callable], Callable]:
    """`wrap(name, f)`: `f`, appending (name, wall s, CPU s) to `timings` on every call."""
    import functools

    def wrap(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def timed(*args: Any, **kwargs: Any) -> Any:
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return f(*args, **kwargs)
            finally:
                timings.append((name, time.perf_counter() - w0, time.process_time() - c0))

        return timed

    return wrap
