"""Access to the owner's console: the signed session cookie, the CSRF tokens and the login lockout.

- **Session.** The cookie holds ``<issued>.<nonce>.<signature>``: an HMAC-SHA256 of the first two
  parts under a key derived from ``ADMIN_PASSWORD_HASH``, so a new password ends every session. It
  lasts :data:`SESSION_SECONDS` at most; logging out forgets its nonce in this process.
- **CSRF.** Every form carries a token that is an HMAC of the session's nonce (of a login nonce, kept
  in its own cookie, on the login form); a POST whose token does not match is refused. The cookies are
  also ``SameSite=Strict``.
- **Lockout.** :data:`MAX_TRIES` wrong passwords from one client (a keyed hash of its address, never
  stored) within :data:`LOCK_SECONDS` lock that client; :data:`MAX_TRIES_OVERALL` from all clients
  lock the login for everyone, for the same time. Counted in Redis when the web apps share one
  (``RATE_LIMIT_STORE_URL``: every web app then counts the same tries), else in this process's memory.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

SESSION_COOKIE = "alliance_console"
LOGIN_COOKIE = "alliance_console_login"
COOKIE_PATH = "/admin"
SESSION_SECONDS = 8 * 3600
MAX_TRIES = 5
MAX_TRIES_OVERALL = 20
LOCK_SECONDS = 15 * 60
#: Every wrong password is answered after this delay (a guesser gets fewer tries per minute).
WRONG_PASSWORD_DELAY = 0.5


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def signing_key(password_hash: str) -> bytes:
    """The key that signs sessions and CSRF tokens, derived from the stored password hash."""
    return hmac.new(password_hash.encode("utf-8"), b"alliance-console-session-v1", hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest())


@dataclass
class Sessions:
    """Issues and checks session cookies; remembers the nonces logged out in this process."""

    revoked: dict[str, float] = field(default_factory=dict)

    def issue(self, key: bytes, now: float | None = None) -> str:
        issued = str(int(now if now is not None else time.time()))
        nonce = secrets.token_urlsafe(18)
        return f"{issued}.{nonce}.{_mac(key, f'{issued}.{nonce}')}"

    def nonce(self, key: bytes, cookie: str | None, now: float | None = None) -> str | None:
        """The nonce of a valid session cookie, else None."""
        if not cookie or len(cookie) > 200 or cookie.count(".") != 2:
            return None
        issued, nonce, signature = cookie.split(".")
        if not issued.isdigit() or not hmac.compare_digest(signature, _mac(key, f"{issued}.{nonce}")):
            return None
        moment = now if now is not None else time.time()
        if not 0 <= moment - int(issued) < SESSION_SECONDS or nonce in self.revoked:
            return None
        return nonce

    def revoke(self, nonce: str, now: float | None = None) -> None:
        moment = now if now is not None else time.time()
        self.revoked = {item: at for item, at in self.revoked.items() if moment - at < SESSION_SECONDS}
        self.revoked[nonce] = moment


def csrf_token(key: bytes, nonce: str, purpose: str = "session") -> str:
    return _mac(key, f"csrf:{purpose}:{nonce}")


def csrf_ok(key: bytes, nonce: str | None, token: str | None, purpose: str = "session") -> bool:
    if not nonce or not token:
        return False
    return hmac.compare_digest(token, csrf_token(key, nonce, purpose))


@dataclass
class LoginGuard:
    """Wrong passwords per client and overall, in sliding windows of :data:`LOCK_SECONDS`."""

    per_client: int = MAX_TRIES
    overall: int = MAX_TRIES_OVERALL
    window: float = LOCK_SECONDS
    _clients: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)

    def _trim(self, events: deque[float], now: float) -> None:
        while events and events[0] <= now - self.window:
            events.popleft()

    def locked_for(self, client: str, now: float | None = None) -> float:
        """Seconds until ``client`` may try again (0: it may now)."""
        moment = now if now is not None else time.monotonic()
        self._trim(self._all, moment)
        events = self._clients.get(client, deque())
        self._trim(events, moment)
        wait = 0.0
        if len(events) >= self.per_client:
            wait = events[0] + self.window - moment
        if len(self._all) >= self.overall:
            wait = max(wait, self._all[0] + self.window - moment)
        return max(0.0, wait)

    def failed(self, client: str, now: float | None = None) -> None:
        moment = now if now is not None else time.monotonic()
        if len(self._clients) > 10_000:  # bounded memory: forget clients whose window is over
            self._clients = {key: events for key, events in self._clients.items()
                             if events and events[-1] > moment - self.window}
        self._clients.setdefault(client, deque()).append(moment)
        self._all.append(moment)

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)

    def tries_left(self, client: str, now: float | None = None) -> int:
        moment = now if now is not None else time.monotonic()
        events = self._clients.get(client, deque())
        self._trim(events, moment)
        return max(0, self.per_client - len(events))


class SharedLoginGuard:
    """The same counts as :class:`LoginGuard`, in Redis sorted sets shared by every web app.

    Keys: ``<prefix>:client:<client hash>`` and ``<prefix>:all``, each expiring with its window. If Redis
    cannot be reached, this process's own :class:`LoginGuard` counts instead (and the failure is logged).
    """

    def __init__(self, client: Any, prefix: str = "alliance:console:login", per_client: int = MAX_TRIES,
                 overall: int = MAX_TRIES_OVERALL, window: float = LOCK_SECONDS) -> None:
        self.client, self.prefix = client, prefix
        self.per_client, self.overall, self.window = per_client, overall, window
        self.fallback = LoginGuard(per_client, overall, window)

    def _keys(self, who: str) -> tuple[str, str]:
        return f"{self.prefix}:client:{who}", f"{self.prefix}:all"

    async def _counts(self, who: str) -> list[tuple[int, float]]:
        """(tries in the window, oldest try) for the client, then overall."""
        now = time.time()
        found = []
        for key in self._keys(who):
            await self.client.zremrangebyscore(key, "-inf", now - self.window)
            oldest = await self.client.zrange(key, 0, 0, withscores=True)
            found.append((int(await self.client.zcard(key)), float(oldest[0][1]) if oldest else now))
        return found

    async def locked_for(self, who: str) -> float:
        from redis.exceptions import RedisError

        try:
            (mine, my_oldest), (every, oldest) = await self._counts(who)
        except (RedisError, OSError) as error:
            logger.warning("console lockout counted in this process, Redis unreachable: %s", error)
            return self.fallback.locked_for(who)
        now, wait = time.time(), 0.0
        if mine >= self.per_client:
            wait = my_oldest + self.window - now
        if every >= self.overall:
            wait = max(wait, oldest + self.window - now)
        return max(0.0, wait, self.fallback.locked_for(who))

    async def failed(self, who: str) -> None:
        from redis.exceptions import RedisError

        self.fallback.failed(who)
        now, member = time.time(), secrets.token_hex(8)
        try:
            for key in self._keys(who):
                await self.client.zadd(key, {member: now})
                await self.client.expire(key, int(self.window) + 1)
        except (RedisError, OSError) as error:
            logger.warning("console lockout counted in this process, Redis unreachable: %s", error)

    async def succeeded(self, who: str) -> None:
        from redis.exceptions import RedisError

        self.fallback.succeeded(who)
        try:
            await self.client.delete(self._keys(who)[0])
        except (RedisError, OSError) as error:
            logger.warning("console lockout: Redis unreachable: %s", error)

    async def tries_left(self, who: str) -> int:
        from redis.exceptions import RedisError

        try:
            (mine, _), _ = await self._counts(who)
        except (RedisError, OSError):
            return self.fallback.tries_left(who)
        return max(0, self.per_client - mine)


class MemoryGuard:
    """:class:`LoginGuard` behind the same awaitable methods as :class:`SharedLoginGuard`."""

    def __init__(self, guard: LoginGuard | None = None) -> None:
        self.guard = guard or LoginGuard()

    async def locked_for(self, who: str) -> float:
        return self.guard.locked_for(who)

    async def failed(self, who: str) -> None:
        self.guard.failed(who)

    async def succeeded(self, who: str) -> None:
        self.guard.succeeded(who)

    async def tries_left(self, who: str) -> int:
        await asyncio.sleep(0)
        return self.guard.tries_left(who)


def lock_message(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (f"Trop d'essais de mot de passe manqués : la connexion est bloquée pendant encore {minutes} {unit}. "
            "Réessayez ensuite ; si vous avez oublié le mot de passe, choisissez-en un nouveau avec "
            "python -m bot.console set-password.")
