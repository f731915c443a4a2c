"""What every action needs: the questionnaire (read once from the database) and the answers in the slots."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from rasa_sdk import Tracker

from bot.loader import read_questionnaire
from bot.questionnaire import Questionnaire

FORM_NAME = "diagnostic_form"
REQUESTED_SLOT = "requested_slot"
MISUNDERSTOOD_SLOT = "misunderstood"

T = TypeVar("T")


@lru_cache(maxsize=1)
def questionnaire() -> Questionnaire:
    """The questionnaire loaded into the database by ``python -m bot.loader`` (cached per process)."""
    return read_questionnaire()


def answers_from(tracker: Tracker) -> dict[str, Any]:
    """The answers given so far, in questionnaire order."""
    return {
        question_id: tracker.get_slot(question_id)
        for question_id in questionnaire().question_ids
        if tracker.get_slot(question_id) is not None
    }


def asked_question(tracker: Tracker) -> str | None:
    """The question the form is waiting for, if the form is running."""
    if tracker.active_loop_name != FORM_NAME:
        return None
    return tracker.get_slot(REQUESTED_SLOT)


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work without stalling the action server's event loop."""
    return await asyncio.to_thread(function, *args)
