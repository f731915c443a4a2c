"""The analytics over REST: scripted conversations, then the projection gives exactly the rows scripted,
and the console's figures equal a recount from the database.

Finished diagnostics (with the feedback after the result), diagnostics abandoned at known questions, answers
not understood, a typed e-mail address and phone number, a knowledge question that found nothing, and an
erasure. The rows are read by the conversations' visitor keys: other tests share the stack.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bot.analytics.projector import project_pending
from bot.console.figures import overview
from bot.console.funnel import funnel
from bot.console.period import Period, today
from bot.diagnostic.questionnaire import load_questionnaire
from bot.runtime.stack import Stack
from bot.store.analytics_tables import (
    ConversationStat,
    Feedback,
    InboxMessage,
    KnowledgeGap,
    QuestionEvent,
    visitor_key,
)
from bot.store.db import build_engine, session_scope
from bot.store.event_store import RAW_EVENTS
from tests.client import Client, payload, texts

ANSWERS = {
    "actor_type": "association", "size": "benevole", "scale": "local", "theme": "lien_social",
    "experience": "ponctuel", "partners": "associations", "organisation": "informel", "evaluation": "non",
    "resources": "temps", "support": "non", "goal": "territoire", "partners_wanted": "tous", "horizon": "moyen",
}  # fmt: skip
QUESTIONS = [question.id for question in load_questionnaire().questions]
EMAIL, PHONE = "marie.curie@example.org", "06 12 34 56 78"


@pytest.fixture(scope="module")
def engines(stack: Stack) -> tuple[Engine, Engine]:
    return build_engine(stack.env["DATABASE_URL"]), build_engine(stack.env["EVENT_STORE_URL"])


def project(engines: tuple[Engine, Engine]) -> None:
    time.sleep(0.5)
    while project_pending(engine=engines[0], event_engine=engines[1]):
        pass


def answer(client: Client, sender: str, count: int) -> list[dict[str, Any]]:
    reply = client.say(sender, "/start_diagnostic")
    for question in QUESTIONS[:count]:
        reply = client.say(sender, payload(question, ANSWERS[question]))
    return reply


def question_events(engine: Engine, sender: str) -> Counter[tuple[str, str]]:
    with session_scope(engine) as session:
        return Counter((row.question_id, row.kind) for row in session.execute(
            select(QuestionEvent).where(QuestionEvent.visitor == visitor_key(sender))).scalars())


def stat(engine: Engine, sender: str) -> ConversationStat | None:
    with session_scope(engine) as session:
        return session.get(ConversationStat, visitor_key(sender))


def rows(engine: Engine, table: type, sender: str) -> list[Any]:
    with session_scope(engine) as session:
        return list(session.execute(select(table).where(table.visitor == visitor_key(sender))).scalars())


def test_finished_diagnostics_with_their_feedback(client: Client, engines: tuple[Engine, Engine]) -> None:
    useful, useless = client.new_sender("analytics-useful"), client.new_sender("analytics-useless")
    for sender in (useful, useless):
        answer(client, sender, 13)
        result = client.say(sender, "/confirm_result")
        assert "porte d'entrée recommandée" in texts(result) and "Ce résultat vous est-il utile ?" in texts(result)
    assert "Un commentaire ?" in texts(client.say(useful, "/affirm"))
    assert "Merci pour votre avis" in texts(client.say(useful, f"Très clair ! Écrivez-moi à {EMAIL} ou au {PHONE}"))
    assert "Un commentaire ?" in texts(client.say(useless, "/deny"))
    assert "Merci pour votre avis" in texts(client.say(useless, "/deny"))  # « Passer »
    project(engines)
    for sender in (useful, useless):
        assert question_events(engines[0], sender) == Counter(
            {**{(question, "asked"): 1 for question in QUESTIONS}, **{(question, "clicked"): 1 for question in QUESTIONS}})
        row = stat(engines[0], sender)
        assert row is not None and row.diagnostic_started_at and row.diagnostic_finished_at and row.user_messages == 17
    given = {sender: rows(engines[0], Feedback, sender) for sender in (useful, useless)}
    assert [(f.useful, f.comment) for f in given[useful]] == [(True, "Très clair ! Écrivez-moi à [e-mail] ou au [téléphone]")]
    assert [(f.useful, f.comment) for f in given[useless]] == [(False, None)]
    assert given[useful][0].door and given[useful][0].level


def test_the_feedback_gives_way_to_another_request(client: Client, engines: tuple[Engine, Engine]) -> None:
    sender = client.new_sender("analytics-moved-on")
    answer(client, sender, 13)
    client.say(sender, "/confirm_result")
    report = client.say(sender, "/show_report")
    assert "rapport" in texts(report) and "utile" not in texts(report)
    assert "utile" not in texts(client.say(sender, "/ask_levels"))  # answered, and the feedback is not asked again
    project(engines)
    assert rows(engines[0], Feedback, sender) == []


def test_abandoned_diagnostics_stop_at_known_questions(client: Client, engines: tuple[Engine, Engine]) -> None:
    left = {client.new_sender("analytics-left-3"): 2, client.new_sender("analytics-left-8"): 7}
    for sender, answered in left.items():
        answer(client, sender, answered)
        client.say(sender, "/why_question")  # an interruption asks the same question again: not a new « asked »
    project(engines)
    for sender, answered in left.items():
        expected = Counter({**{(question, "asked"): 1 for question in QUESTIONS[:answered + 1]},
                            **{(question, "clicked"): 1 for question in QUESTIONS[:answered]}})
        assert question_events(engines[0], sender) == expected
        row = stat(engines[0], sender)
        assert row is not None and row.diagnostic_finished_at is None and row.last_question == QUESTIONS[answered]


def test_not_understood_answers_reach_the_inbox_masked(client: Client, engines: tuple[Engine, Engine]) -> None:
    sender = client.new_sender("analytics-lost")
    answer(client, sender, 2)
    client.say(sender, "zxqv wplk")
    client.say(sender, f"mon mail {EMAIL} et mon tel {PHONE}")
    client.say(sender, payload("scale", "local"))
    project(engines)
    events = question_events(engines[0], sender)
    assert events[("scale", "not_understood")] == 2 and events[("scale", "clicked")] == 1
    inbox = rows(engines[0], InboxMessage, sender)
    assert [message.question_id for message in inbox] == ["scale", "scale"]
    assert {message.reason for message in inbox} <= {"fallback", "not_an_answer"}
    assert inbox[1].text == "mon mail [e-mail] et mon tel [téléphone]"
    assert inbox[1].group_key == "mon mail e mail et mon tel telephone"


def test_a_typed_answer_and_a_knowledge_gap(client: Client, engines: tuple[Engine, Engine]) -> None:
    sender = client.new_sender("analytics-typed")
    client.say(sender, "/start_diagnostic")
    client.say(sender, "nous sommes une association")
    gap = client.say(sender, "c'est quoi le zorglubisme ?")
    project(engines)
    assert question_events(engines[0], sender)[("actor_type", "typed")] == 1
    if "dans ma base" in texts(gap):
        assert [row.text for row in rows(engines[0], KnowledgeGap, sender)] == ["c'est quoi le zorglubisme ?"]


def test_an_erasure_leaves_nothing_and_no_text_holds_a_typed_address(client: Client,
                                                                     engines: tuple[Engine, Engine]) -> None:
    sender = client.new_sender("analytics-erased")
    answer(client, sender, 2)
    client.say(sender, f"écrivez à {EMAIL}")
    project(engines)
    assert stat(engines[0], sender) is not None
    client.say(sender, "/confirm_delete_my_data")
    project(engines)
    for table in (ConversationStat, QuestionEvent, InboxMessage, KnowledgeGap, Feedback):
        assert rows(engines[0], table, sender) == []
    with session_scope(engines[0]) as session:
        stored = [json.dumps(row.turn) for row in session.execute(select(ConversationStat)).scalars()]
        stored += [row.text for row in session.execute(select(InboxMessage)).scalars()]
        stored += [row.text for row in session.execute(select(KnowledgeGap)).scalars()]
        stored += [row.comment or "" for row in session.execute(select(Feedback)).scalars()]
    assert stored and not [text for text in stored if EMAIL in text or "0612345678" in text.replace(" ", "")]
    with engines[1].connect() as connection:  # the projected raw events are gone
        assert all(data == "{}" for data in connection.execute(select(RAW_EVENTS.c.data)).scalars())


def test_the_console_figures_equal_a_recount_from_the_database(client: Client, engines: tuple[Engine, Engine]) -> None:
    """After the scripted conversations above (and any other test's), every funnel figure, count and spread the
    console shows equals the same figure counted again with plain SQL."""
    sender = client.new_sender("analytics-recount")
    answer(client, sender, 4)
    client.say(sender, "zxqv wplk")
    project(engines)
    survey = load_questionnaire()
    period = Period(today() - timedelta(days=2), today() + timedelta(days=1))
    with session_scope(engines[0]) as session:
        steps = {step.question_id: step for step in funnel(session, period, survey)}
        shown = overview(session, period, survey)
    bounds = {"start": period.start, "end": period.end}
    with engines[0].connect() as connection:
        def grouped(query: str) -> dict[Any, int]:
            return {tuple(row[:-1]) if len(row) > 2 else row[0]: row[-1]
                    for row in connection.execute(text(query), bounds)}

        def count(query: str) -> int:
            return int(connection.execute(text(query), bounds).scalar() or 0)

        events = "FROM analytics_question_events WHERE at >= :start AND at < :end"
        reached = grouped(f"SELECT question_id, COUNT(DISTINCT visitor) {events} AND kind = 'asked' GROUP BY question_id")
        kinds = grouped(f"SELECT question_id, kind, COUNT(*) {events} GROUP BY question_id, kind")
        left = grouped("SELECT last_question, COUNT(*) FROM analytics_conversations WHERE started_at >= :start AND"
                       " started_at < :end AND diagnostic_started_at IS NOT NULL AND diagnostic_finished_at IS NULL"
                       " AND last_question IS NOT NULL GROUP BY last_question")
        conversations = count("SELECT COUNT(*) FROM analytics_conversations WHERE started_at >= :start"
                              " AND started_at < :end")
        statuses = grouped("SELECT status, COUNT(*) FROM diagnostics WHERE started_at >= :start AND started_at < :end"
                           " GROUP BY status")
        finished = "FROM diagnostics WHERE status = 'completed' AND completed_at >= :start AND completed_at < :end"
        doors = grouped(f"SELECT door, COUNT(*) {finished} GROUP BY door")
        levels = grouped(f"SELECT level, COUNT(*) {finished} GROUP BY level")
        completed = count(f"SELECT COUNT(*) {finished}")
    assert reached.get(QUESTIONS[4], 0) >= 1 and kinds.get((QUESTIONS[4], "not_understood"), 0) >= 1
    for question in QUESTIONS:
        step = steps[question]
        assert (step.reached, step.left, step.typed, step.clicked, step.not_understood, step.corrected) == (
            reached.get(question, 0), left.get(question, 0), kinds.get((question, "typed"), 0),
            kinds.get((question, "clicked"), 0), kinds.get((question, "not_understood"), 0),
            kinds.get((question, "corrected"), 0)), question
    assert shown.conversations == conversations
    assert (shown.started, shown.started_completed) == (sum(statuses.values()), statuses.get("completed", 0))
    assert shown.finished == completed >= 3
    assert {door: count for door, count in shown.doors.items() if count} == doors
    assert {level: count for level, count in shown.levels.items() if count} == levels
    assert sum(bucket.finished for bucket in shown.buckets) == shown.finished
