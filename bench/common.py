"""Helpers shared by the bench scripts: run a command and report wall time and peak memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
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
    """Run `cmd`; wall-clock seconds, CPU seconds and peak resident memory (MB).

    The peak is the larger of wait4's (the biggest single process, unless it is only what the
    child inherited from this one) and the most the whole process tree held at once, sampled
    every 250 ms from /proc: ingest stages a big file in worker processes, side by side. On a
    loaded machine wall time also measures waiting for a core; CPU time (user + system, the
    tree's) does not."""
    # A child's ru_maxrss starts from this process's peak (Linux carries it across fork and
    # exec): wait4's figure only says something when it is above that.
    inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    tree_peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            tree_peak[0] = max(tree_peak[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    peak_kb = max(usage.ru_maxrss if usage.ru_maxrss > inherited else 0, tree_peak[0])
    return Measured(seconds, peak_kb / 1024, os.waitstatus_to_exitcode(status), cpu)


def _tree_rss_kb(root: int) -> int:
    """Resident memory (kB) of `root` and all its descendants now (0 where /proc is absent)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0"))
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += [c for c, p in parents.items() if p == pid]
    return total


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
