"""Sliding-window rate limits for the chat relay: in memory (one web app) or in Redis (several).

Keys are opaque strings (a conversation id, a keyed hash of an address). In memory,
nothing is written anywhere and a key is forgotten once its window is empty. In
Redis (``RATE_LIMIT_STORE_URL``, set by the production mode), every web app counts
in the same window; a key expires with its window (10 s by default), and the hash
key of addresses is shared through Redis so that every web app hashes alike.

Both limiters answer the same question, ``await limiter.wait_time(key)``: 0 when the
event is allowed (and counted), else the seconds to wait (and not counted).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)

REDIS_PREFIX = "alliance:rate"

# One atomic step in Redis: drop the events that left the window, refuse if it is full
# (answering the milliseconds until its oldest event leaves), else count this one.
# Redis's own clock is used so that web apps on several machines agree.
SLIDING_WINDOW_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RateLimiter(Protocol):
    async def wait_time(self, key: str) -> float: ...


@dataclass
class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds for each key, in this process's memory."""

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

    async def wait_time(self, key: str) -> float:
        if self.allow(key):
            return 0.0
        return self.retry_after(key) or 1.0

    def _forget_idle(self, moment: float) -> None:
        # Bounded memory: keys whose last event left the window are dropped.
        idle = [key for key, events in self._events.items() if not events or events[-1] <= moment - self.window]
        for key in idle:
            del self._events[key]

    def __len__(self) -> int:
        return len(self._events)


class RedisSlidingWindowLimiter:
    """The same window kept in Redis under ``alliance:rate:<name>:<key>``, shared by every web app.

    If Redis cannot be reached, the message is let through (and the failure logged):
    the chat stays usable, and nginx still limits each address.
    """

    def __init__(self, client: Any, name: str, limit: int, window: float) -> None:
        self.client = client
        self.name = name
        self.limit = limit
        self.window_ms = max(1, round(window * 1000))
        self._script = client.register_script(SLIDING_WINDOW_SCRIPT)

    async def wait_time(self, key: str) -> float:
        from redis.exceptions import RedisError

        try:
            waiting_ms = await self._script(keys=[f"{REDIS_PREFIX}:{self.name}:{key}"],
                                            args=[self.window_ms, self.limit, secrets.token_hex(8)])
        except (RedisError, OSError) as error:
            logger.warning("rate limit not checked, Redis unreachable: %s", error)
            return 0.0
        return int(waiting_ms) / 1000


def redis_client(url: str) -> Any:
    """An asyncio Redis client for ``url`` (connections are opened on first use)."""
    from redis import asyncio as redis_asyncio

    return redis_asyncio.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


async def shared_hash_key(client: Any) -> bytes:
    """The key every web app uses to hash addresses: drawn once, kept in Redis."""
    name = f"{REDIS_PREFIX}:address-hash-key"
    await client.set(name, secrets.token_hex(32), nx=True)
    value = await client.get(name)
    return bytes(value)
