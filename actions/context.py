"""What every action needs: the questionnaire and the knowledge base (read once from the database), the answers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from rasa_sdk import Tracker

from bot.diagnostic.questionnaire import Questionnaire
from bot.knowledge.model import Catalogue
from bot.knowledge.search import FIGURE_QUESTION_WORDS, QUESTION_WORDS, SearchIndex, cached_index
from bot.store.loader import read_catalogue, read_questionnaire

FORM_NAME = "diagnostic_form"
REQUESTED_SLOT = "requested_slot"
MISUNDERSTOOD_SLOT = "misunderstood"
LAST_SOURCES_SLOT = "last_sources"
LISTING_SLOT = "listing"
# question id -> what the user typed to answer it (matched by meaning in the recommendation)
TYPED_SLOT = "typed_answers"
# the conversation whose result a new diagnostic is compared with (a report's « Refaire le diagnostic »)
PREVIOUS_SLOT = "previous_conversation"
MAX_CONVERSATION_ID = 255
TYPED_MAX_CHARS = 300
# {"question": id, "options": [ids]}: the likely options of a reading that was not sure (asked, never stored)
DOUBT_SLOT = "doubt"
# True once the result was shown in this session: a correction then computes it again
RESULT_SHOWN_SLOT = "result_shown"

T = TypeVar("T")


# Every kind of entry, for questions about alliances in general (« pourquoi faire alliance ? »).
GENERAL_KINDS = ("term", "door", "example", "tool", "support_structure", "figure")
SEARCHED_KINDS = (("example",), ("tool",), ("support_structure",), ("figure",), GENERAL_KINDS)


@lru_cache(maxsize=1)
def questionnaire() -> Questionnaire:
    """The questionnaire loaded into the database by ``python -m bot.store.loader`` (cached per process).

    The first call also starts building the search indexes in the background: they
    need the word vectors (a few seconds), which the first knowledge question of a
    user should not wait for.
    """
    loaded = read_questionnaire()
    threading.Thread(target=_build_search_indexes, name="search-warm-up", daemon=True).start()
    return loaded


def _build_search_indexes() -> None:
    for kinds in SEARCHED_KINDS:
        search_index(kinds)


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


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The knowledge base loaded into the database (cached per process)."""
    return read_catalogue()


def relatedness(kind: str, text: str) -> dict[str, float]:
    """How close each entry of ``kind`` is to ``text`` by meaning (for the recommendation)."""
    return search_index((kind,)).relatedness(text)


def search_index(kinds: tuple[str, ...]) -> SearchIndex:
    """The semantic index over the entries of ``kinds`` (built on first use)."""
    entries = [entry for kind in kinds for entry in catalogue().of(kind)]
    words = FIGURE_QUESTION_WORDS if kinds == ("figure",) else QUESTION_WORDS
    return cached_index("+".join(kinds), lambda: SearchIndex(entries, question_words=words))
