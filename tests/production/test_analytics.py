"""The analytics in the production topology: Rasa's events go from two Rasa servers through RabbitMQ and the
consumer into the analytics tables, and stopping or killing the consumer loses none of them."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from bot.analytics.projector import project_pending
from bot.runtime.production import Production
from bot.store.analytics_tables import ConversationStat, QuestionEvent, visitor_key
from bot.store.db import build_engine, session_scope
from tests.client import Client
from tests.production.test_topology import answer, question_ids

WAIT_S = 60.0


def question_events(production: Production, senders: list[str]) -> dict[str, Counter[tuple[str, str]]]:
    engine = build_engine(production.database_url)
    try:
        project_pending(engine=engine, event_engine=engine)
        with session_scope(engine) as session:
            found: dict[str, Counter[tuple[str, str]]] = {}
            for sender in senders:
                found[sender] = Counter((row.question_id, row.kind) for row in session.execute(
                    select(QuestionEvent).where(QuestionEvent.visitor == visitor_key(sender))).scalars())
            return found
    finally:
        engine.dispose()


def finished(production: Production, sender: str) -> bool:
    engine = build_engine(production.database_url)
    try:
        with session_scope(engine) as session:
            row = session.get(ConversationStat, visitor_key(sender))
            return row is not None and row.diagnostic_finished_at is not None
    finally:
        engine.dispose()


def test_events_reach_the_analytics_through_rabbitmq_and_a_consumer_restart_loses_none(
    production: Production, servers: list[Client]
) -> None:
    ids = question_ids()
    senders = [Client.new_sender("prodanalytics") for _ in range(3)]
    for sender in senders:
        servers[0].say(sender, "/start_diagnostic")

    def answer_on_alternate_servers(questions: list[str]) -> None:
        for index, question in enumerate(questions):
            for number, sender in enumerate(senders):
                servers[(index + number) % 2].say(sender, answer(question))

    answer_on_alternate_servers(ids[:4])
    production.stop_process("analytics")  # stopped: Rasa's events wait in RabbitMQ's durable queue
    answer_on_alternate_servers(ids[4:8])
    production.supervisor.start(production.analytics_spec())
    old_pid = production.kill("analytics")  # kill -9 while it takes the queued events; the supervisor restarts it
    answer_on_alternate_servers(ids[8:])
    production.supervisor.wait_restarted("analytics", old_pid, timeout=30)
    servers[1].say(senders[0], "/confirm_result")

    expected = Counter({**{(question, "asked"): 1 for question in ids}, **{(question, "clicked"): 1 for question in ids}})
    deadline = time.monotonic() + WAIT_S
    found = question_events(production, senders)
    while time.monotonic() < deadline and (any(found[sender] != expected for sender in senders)
                                           or not finished(production, senders[0])):
        time.sleep(1)
        found = question_events(production, senders)
    assert all(found[sender] == expected for sender in senders), found
    assert finished(production, senders[0]) and not finished(production, senders[1])
