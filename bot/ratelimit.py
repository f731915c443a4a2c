"""A sliding-window rate limiter kept in memory (per web-app process), for the chat relay.

Keys are opaque strings (a conversation id, a hash of an address): nothing is
written anywhere, and a key is forgotten once its window is empty.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds for each key."""

    limit: int
    window: float
    _events: dict[str, deque[float]] = field(default_factory=dict)
    _checks: int = 0

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event for ``key`` if it is within the limit; False (and not counted) otherwise."""
        moment = time.monotonic() if now is None else now
        self._checks += 1
        if self._checks % 1000 == 0:
            self._forget_idle(moment)
        events = self._events.setdefault(key, deque())
        while events and events[0] <= moment - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(moment)
        return True

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may send again (0 if it may now)."""
        moment = time.monotonic() if now is None else now
        events = self._events.get(key)
        if not events or len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self.window - moment)

    def _forget_idle(self, moment: float) -> None:
        # Bounded memory: keys whose last event left the window are dropped.
        idle = [key for key, events in self._events.items() if not events or events[-1] <= moment - self.window]
        for key in idle:
            del self._events[key]

    def __len__(self) -> int:
        return len(self._events)
