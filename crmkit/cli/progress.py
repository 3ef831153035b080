"""Progress on stderr for long work: a live status line on a terminal, nothing otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from crmkit.cli.output import err


@contextlib.contextmanager
def progress(quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """Yield a `say(message)` callback that updates a spinner (only when stderr is a terminal)."""
    if quiet or not err.is_terminal:
        yield lambda _msg: None
        return
    with err.status("starting…") as status:
        yield lambda msg: status.update(msg)
