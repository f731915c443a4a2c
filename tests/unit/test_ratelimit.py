"""The chat relay's rate limiter."""

from __future__ import annotations

from bot.ratelimit import SlidingWindowLimiter


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
