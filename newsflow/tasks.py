"""Ending asyncio tasks that nobody waits for any more."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it has ended; whatever error it ended with is retrieved
    (so asyncio does not report it as never retrieved) and dropped."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()
