"""``python -m bot.runtime.rasa_shared <rasa arguments>``: one Rasa server among several sharing their stores.

It is :mod:`bot.runtime.rasa_launcher` plus two fixes that several servers need: ``pool_pre_ping``
on Rasa's SQL engines (a connection broken by a PostgreSQL restart is replaced instead of failing a
turn) and an atomic Redis lock store (two messages of one conversation arriving at two servers at
once are processed one after the other).
"""
from __future__ import annotations

from typing import Any

from bot.runtime import rasa_launcher


def _install_pool_pre_ping() -> None:
    """Make every SQLAlchemy engine Rasa creates check its connection before use.

    Rasa 3.6's SQLTrackerStore builds its engines without ``pool_pre_ping`` (and, with ``login_db``, rebuilds
    it with a bare ``create_engine``), so after a PostgreSQL restart a pooled connection would be used once more
    and fail ("server closed the connection unexpectedly"). Both calls go through ``sqlalchemy.create_engine``
    at call time, so wrapping it here covers them.
    """
    import sqlalchemy

    original = sqlalchemy.create_engine

    def create_engine(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("pool_pre_ping", True)
        return original(*args, **kwargs)

    sqlalchemy.create_engine = create_engine  # type: ignore[assignment]


def _install_atomic_redis_lock_store() -> None:
    """Make Rasa's Redis lock store safe for several Rasa servers.

    Rasa 3.6's RedisLockStore changes a conversation's lock with GET, then SET (``issue_ticket``,
    ``update_lock``, ``finish_serving``/``cleanup``): two servers receiving a message of the same conversation
    at the same time both read "no ticket", both take ticket 0 and process the two turns at once, and the
    tracker store keeps the events of one of them only (seen in tests/production: a user message lost). Known
    upstream: RasaHQ/rasa#9213; the fix (ConcurrentRedisLockStore, PR #11256) was reverted from OSS (#11428).
    Here each of those read-modify-writes runs in a Redis transaction (WATCH/MULTI/EXEC, retried on conflict),
    with the same ticket semantics, the same keys and the same endpoints.yml.
    """
    import json

    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

    def atomic(store: RedisLockStore, conversation_id: str, change: Any) -> Any:
        """Apply ``change(lock or None) -> (lock to save or None to delete, result)`` atomically."""
        key = store.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            saved, result = change(lock)
            pipe.multi()
            if saved is None:
                pipe.delete(key)
            else:
                pipe.set(key, saved.dumps())
            return result

        return store.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self: RedisLockStore, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return atomic(self, conversation_id, change)
        except Exception as error:  # what Rasa's own issue_ticket catches
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self: RedisLockStore, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        atomic(self, conversation_id, change)

    def cleanup(self: RedisLockStore, conversation_id: str, ticket_number: int) -> None:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        atomic(self, conversation_id, change)

    RedisLockStore.issue_ticket = issue_ticket  # type: ignore[method-assign]
    RedisLockStore.update_lock = update_lock  # type: ignore[method-assign]
    RedisLockStore.cleanup = cleanup  # type: ignore[method-assign]


def main() -> None:
    _install_pool_pre_ping()
    _install_atomic_redis_lock_store()
    rasa_launcher.main()



if __name__ == "__main__":
    main()
