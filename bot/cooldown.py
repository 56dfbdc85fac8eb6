"""A per-user cooldown on questions, on a clock the tests can drive."""

from __future__ import annotations

import time
from collections.abc import Callable


class Cooldown:
    """One question per user per `seconds`; `retry_after` says how long to wait, or 0."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """0 and the use recorded when the user may ask now; else the seconds left."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0

    def reset(self, user_id: int) -> None:
        """Forget a use that did not cost anything (a question the engine refused)."""
        self._last.pop(user_id, None)
