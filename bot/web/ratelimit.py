"""Sliding-window rate limits for the chat relay: in memory (one web app) or in Redis (several).

Keys are opaque strings (a conversation id, a keyed hash of an address). In memory,
nothing is written anywhere and a key is forgotten once its window is empty. In
Redis (``RATE_LIMIT_STORE_URL``, set by the production mode), every web app counts
in the same window; a key expires with its window (10 s by default), and the hash
key of addresses is shared through Redis so that every web app hashes alike.

Both answer the same question for several limits at once, ``await limits.wait_time(*keys)``
(one key per limit): 0 when the event is within every limit (and then counted in each),
else the seconds to wait (and counted in none).
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

# One atomic step in Redis for several limits (one key each): drop the events that left
# each window; if any window is full, answer the milliseconds until it frees and count
# nothing; else count the event in every window. Redis's own clock is used so that web
# apps on several machines agree. ARGV: a unique member, then (window ms, limit) per key.
SLIDING_WINDOW_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 * i + 1]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now, 1)
  end
end
if wait > 0 then
  return wait
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i]))
end
return 0
"""


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per ``window`` seconds for each key of this ``name``."""

    name: str
    limit: int
    window: float


class RateLimits(Protocol):
    async def wait_time(self, *keys: str) -> float:
        """0 if the event is within every limit (and then counted in each), else the seconds to wait."""
        ...


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

    def _forget_idle(self, moment: float) -> None:
        # Bounded memory: keys whose last event left the window are dropped.
        idle = [key for key, events in self._events.items() if not events or events[-1] <= moment - self.window]
        for key in idle:
            del self._events[key]

    def __len__(self) -> int:
        return len(self._events)


class MemoryLimits:
    """Several limits, one key each, in this process's memory (one web app)."""

    def __init__(self, limits: list[Limit]) -> None:
        self.limits = limits
        self.windows = [SlidingWindowLimiter(limit.limit, limit.window) for limit in limits]

    async def wait_time(self, *keys: str) -> float:
        now = time.monotonic()
        wait = max((window.retry_after(key, now) for window, key in zip(self.windows, keys, strict=True)), default=0.0)
        if wait > 0:
            return wait
        for window, key in zip(self.windows, keys, strict=True):
            window.allow(key, now)
        return 0.0


class RedisLimits:
    """The same limits kept in Redis under ``alliance:rate:<name>:<key>``, shared by every web app.

    One script call checks and counts them all. If Redis cannot be reached, the
    message is let through (and the failure logged): the chat stays usable, and
    nginx still limits each address.
    """

    def __init__(self, client: Any, limits: list[Limit]) -> None:
        self.client = client
        self.limits = limits
        self._windows = [(max(1, round(limit.window * 1000)), limit.limit) for limit in limits]
        self._script = client.register_script(SLIDING_WINDOW_SCRIPT)

    async def wait_time(self, *keys: str) -> float:
        from redis.exceptions import RedisError

        names = [f"{REDIS_PREFIX}:{limit.name}:{key}" for limit, key in zip(self.limits, keys, strict=True)]
        arguments: list[Any] = [secrets.token_hex(8)]
        for window_ms, limit in self._windows:
            arguments += [window_ms, limit]
        try:
            waiting_ms = await self._script(keys=names, args=arguments)
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
