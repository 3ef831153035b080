"""Hold a workspace lock from another process, as a concurrent `crmkit run` would."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_HOLD = (
    "import sys, time\n"
    "from crmkit.warehouse import WorkspaceLock\n"
    "with WorkspaceLock(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)


@contextlib.contextmanager
def lock_held_elsewhere(workspace: Path) -> Iterator[int]:
    """Yield the pid of a child process that holds the lock until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(workspace)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()
