"""« Ce résultat vous est-il utile ? »: reading Oui / Non and the comment, asking once, storing it masked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.feedback import ASKED_SLOT, COMMENT_SLOT, USEFUL_SLOT, AskComment, AskUseful, ValidateFeedbackForm
from bot.analytics.feedback import record_feedback
from bot.store.analytics_tables import Feedback, visitor_key
from bot.store.db import build_engine, session_scope
from bot.store.tables import Base, Diagnostic


def tracker(text: str, intent: str, slots: dict[str, Any]) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    return Tracker("t", slots, message, [], False, None, {"name": "feedback_form"}, "action_listen")


def validate(text: str, intent: str, requested: str) -> list[dict[str, Any]]:
    return asyncio.run(ValidateFeedbackForm().run(CollectingDispatcher(), tracker(text, intent,
                                                                                   {"requested_slot": requested}), {}))


def test_yes_no_and_anything_else_at_the_first_question() -> None:
    assert validate("/affirm", "affirm", USEFUL_SLOT) == [SlotSet(USEFUL_SLOT, True)]
    assert validate("bof pas vraiment", "deny", USEFUL_SLOT) == [SlotSet(USEFUL_SLOT, False)]
    assert validate("/show_report", "show_report", USEFUL_SLOT) == []  # refused: its rule answers it


def test_the_comment_typed_skipped_or_another_button() -> None:
    assert validate("Trop général pour nous", "out_of_scope", COMMENT_SLOT) == [
        SlotSet(COMMENT_SLOT, "Trop général pour nous")]
    for skip in ("/deny", "Passer", "non merci", "rien"):
        assert validate(skip, "deny", COMMENT_SLOT) == [SlotSet(COMMENT_SLOT, "")]
    assert validate("/ask_examples", "ask_examples", COMMENT_SLOT) == []


def test_each_question_is_asked_once_then_dropped() -> None:
    dispatcher = CollectingDispatcher()
    first = asyncio.run(AskUseful().run(dispatcher, tracker("/confirm_result", "confirm_result", {}), {}))
    assert first == [SlotSet(ASKED_SLOT, [USEFUL_SLOT])]
    assert dispatcher.messages[0]["response"] == "utter_feedback_useful"
    again = asyncio.run(AskUseful().run(CollectingDispatcher(), tracker("x", "greet", {ASKED_SLOT: [USEFUL_SLOT]}), {}))
    assert again == [ActiveLoop(None)]
    comment = asyncio.run(AskComment().run(CollectingDispatcher(), tracker("/affirm", "affirm",
                                                                          {ASKED_SLOT: [USEFUL_SLOT]}), {}))
    assert comment == [SlotSet(ASKED_SLOT, [USEFUL_SLOT, COMMENT_SLOT])]


def test_the_feedback_is_stored_masked_with_the_result_s_door_and_level(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'a.db'}")
    Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        session.add(Diagnostic(conversation_id="c1", status="completed", answers={}, door="territoire", level="debutant"))
    record_feedback("c1", False, "  Appelez-moi au 06 12 34 56 78  ", engine)
    record_feedback("c2", True, "", engine)
    with session_scope(engine) as session:
        rows = [(row.visitor, row.useful, row.comment, row.door, row.level)
                for row in session.execute(select(Feedback).order_by(Feedback.id)).scalars()]
    assert rows == [(visitor_key("c1"), False, "Appelez-moi au [téléphone]", "territoire", "debutant"),
                    (visitor_key("c2"), True, None, None, None)]
