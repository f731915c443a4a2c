"""The chat relay's rate limiters: in memory, and in Redis shared by several web apps."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from bot.web.ratelimit import (
    REDIS_PREFIX,
    Limit,
    MemoryLimits,
    RedisLimits,
    SlidingWindowLimiter,
    redis_client,
    shared_hash_key,
)


def test_the_limit_holds_within_the_window_and_frees_after_it() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=10)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.retry_after("a", now=3) == 7
    assert limiter.allow("b", now=3), "another key has its own count"
    assert not limiter.allow("a", now=9.9)
    assert limiter.allow("a", now=10.1), "the first event left the window"


def test_refused_events_are_not_counted() -> None:
    limiter = SlidingWindowLimiter(limit=2, window=10)
    for moment in range(9):
        limiter.allow("a", now=moment)
    # Had the refused ones been counted, the window would still be full at 10.5.
    assert limiter.allow("a", now=10.5)
    assert not limiter.allow("a", now=10.6)
    assert limiter.allow("a", now=11.5)


def test_idle_keys_are_forgotten() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=1)
    for number in range(999):
        limiter.allow(f"key{number}", now=0)
    assert len(limiter) == 999
    limiter.allow("late", now=5)  # the 1000th check sweeps the idle keys
    assert len(limiter) == 1


# --- Several limits at once; in Redis, shared by every web app (a real Redis at 127.0.0.1:6379, db 5) --------

REDIS_URL = "redis://127.0.0.1:6379/5"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def fresh(limit: int, window: float) -> Limit:
    return Limit(f"test-{uuid.uuid4().hex[:8]}", limit, window)


async def close(*clients: Any) -> None:
    for client in clients:
        await client.close()


def test_redis_the_limit_holds_and_is_shared_by_every_web_app() -> None:
    async def scenario() -> None:
        limit = fresh(3, 10)
        # Two clients, as two web apps would have.
        first, second = (RedisLimits(redis_client(REDIS_URL), [limit]) for _ in range(2))
        waits = [await limits.wait_time("conversation-a") for limits in (first, second, first, second)]
        assert waits[:3] == [0, 0, 0]
        assert 9 < waits[3] <= 10, "the 4th message, on the other web app, waits for the first to leave the window"
        assert await second.wait_time("conversation-b") == 0, "another key has its own count"
        ttl_ms = await first.client.pttl(f"{REDIS_PREFIX}:{limit.name}:conversation-a")
        assert 0 < ttl_ms <= 10_000, "the key goes with its window"
        await close(first.client, second.client)

    run(scenario())


def test_redis_refused_events_are_not_counted_and_the_window_slides() -> None:
    async def scenario() -> None:
        limits = RedisLimits(redis_client(REDIS_URL), [fresh(2, 0.5)])
        assert [await limits.wait_time("a") for _ in range(5)][:2] == [0, 0]
        await asyncio.sleep(0.55)
        # Had the 3 refused ones been counted, the window would still be full.
        assert await limits.wait_time("a") == 0
        assert await limits.wait_time("a") == 0
        assert await limits.wait_time("a") > 0
        await close(limits.client)

    run(scenario())


def check_two_limits(limits: Any) -> None:
    """Conversation limit 2, address limit 3 (both over 10 s), for the memory and the Redis versions."""

    async def scenario() -> None:
        assert [await limits.wait_time("c1", "addr") for _ in range(3)] == [0, 0, pytest.approx(10, abs=0.5)]
        # c1 is full: its refused message must not have used the address's third place.
        assert await limits.wait_time("c2", "addr") == 0
        assert await limits.wait_time("c3", "addr") == pytest.approx(10, abs=0.5), "the address is now full"
        assert await limits.wait_time("c3", "other-addr") == 0

    run(scenario())


def test_two_limits_in_memory_count_only_what_both_allow() -> None:
    check_two_limits(MemoryLimits([Limit("conversation", 2, 10), Limit("address", 3, 10)]))


def test_two_limits_in_redis_count_only_what_both_allow() -> None:
    limits = RedisLimits(redis_client(REDIS_URL), [fresh(2, 10), fresh(3, 10)])
    check_two_limits(limits)
    run(close(limits.client))


def test_redis_unreachable_lets_the_message_through() -> None:
    async def scenario() -> None:
        limits = RedisLimits(redis_client("redis://127.0.0.1:1/0"), [fresh(1, 10)])
        assert [await limits.wait_time("a") for _ in range(3)] == [0, 0, 0]
        await close(limits.client)

    run(scenario())


def test_every_web_app_gets_the_same_address_hash_key() -> None:
    async def scenario() -> None:
        clients = [redis_client(REDIS_URL) for _ in range(2)]
        keys = [await shared_hash_key(client) for client in clients]
        assert keys[0] == keys[1] and len(keys[0]) == 64
        await close(*clients)

    run(scenario())
