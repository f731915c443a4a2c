"""The console's session cookie, CSRF tokens and login lockout (bot/web/console_auth.py), without a web app."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from bot.web import console_auth as auth

KEY = auth.signing_key("scrypt:16384:8:1:c2VsCg:a2V5Cg")


def test_a_session_is_signed_expires_and_can_be_revoked() -> None:
    sessions = auth.Sessions()
    cookie = sessions.issue(KEY, now=1_000_000)
    nonce = sessions.nonce(KEY, cookie, now=1_000_010)
    assert nonce and cookie.split(".")[1] == nonce
    assert sessions.nonce(KEY, cookie, now=1_000_000 + auth.SESSION_SECONDS) is None, "expired"
    assert sessions.nonce(auth.signing_key("another hash"), cookie, now=1_000_010) is None, "a new password ends it"
    issued, _, signature = cookie.split(".")
    assert sessions.nonce(KEY, f"{issued}.other.{signature}", now=1_000_010) is None, "forged"
    for broken in ("", "a.b", "x" * 500, "1.2.3.4", None):
        assert sessions.nonce(KEY, broken, now=1_000_010) is None
    sessions.revoke(nonce, now=1_000_020)
    assert sessions.nonce(KEY, cookie, now=1_000_030) is None, "logged out"


def test_csrf_tokens_belong_to_one_session_and_one_purpose() -> None:
    token = auth.csrf_token(KEY, "nonce-a")
    assert auth.csrf_ok(KEY, "nonce-a", token)
    assert not auth.csrf_ok(KEY, "nonce-b", token)
    assert not auth.csrf_ok(KEY, "nonce-a", token, "login")
    assert not auth.csrf_ok(KEY, "nonce-a", None) and not auth.csrf_ok(KEY, None, token)


def test_the_memory_guard_locks_a_client_then_everyone() -> None:
    guard = auth.LoginGuard(per_client=5, overall=8, window=900)
    for attempt in range(5):
        assert guard.locked_for("a", now=100 + attempt) == 0
        guard.failed("a", now=100 + attempt)
    assert guard.locked_for("a", now=110) == pytest.approx(890)
    assert guard.locked_for("b", now=110) == 0 and guard.tries_left("b", now=110) == 5
    for attempt in range(3):
        guard.failed(f"c{attempt}", now=110)
    assert guard.locked_for("d", now=111) == pytest.approx(889), "8 wrong passwords in all: locked for everyone"
    assert guard.locked_for("a", now=1001) == 0, "the window slid past the first tries"
    guard.succeeded("a")
    assert guard.tries_left("a", now=300) == 5


def test_the_shared_guard_counts_in_redis() -> None:
    from redis import asyncio as redis_asyncio
    from redis.exceptions import RedisError

    async def scenario() -> tuple[list[float], float, int]:
        client = redis_asyncio.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1.0,
                                              socket_connect_timeout=1.0)
        prefix = f"alliance:test:console:{secrets.token_hex(6)}"
        try:
            await client.ping()
        except (RedisError, OSError):
            await client.close()
            pytest.skip("no Redis on 127.0.0.1:6379")
        first, second = auth.SharedLoginGuard(client, prefix), auth.SharedLoginGuard(client, prefix)
        try:
            waits = []
            for _ in range(5):
                waits.append(await first.locked_for("a"))
                await first.failed("a")
            # Another web app (another guard on the same Redis) sees the same count.
            return waits, await second.locked_for("a"), await second.tries_left("b")
        finally:
            await client.delete(f"{prefix}:client:a", f"{prefix}:all")
            await client.close()

    waits, other_app, left = asyncio.run(scenario())
    assert waits == [0.0] * 5
    assert other_app > 0.9 * auth.LOCK_SECONDS
    assert left == auth.MAX_TRIES


def test_the_shared_guard_falls_back_to_memory_without_redis() -> None:
    from redis import asyncio as redis_asyncio

    async def scenario() -> float:
        client = redis_asyncio.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2, socket_connect_timeout=0.2)
        guard = auth.SharedLoginGuard(client, "alliance:test:none")
        for _ in range(5):
            await guard.failed("a")
        waiting = await guard.locked_for("a")
        await client.close()
        return waiting

    assert asyncio.run(scenario()) > 0
