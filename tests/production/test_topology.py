"""The production topology with real servers: two Rasa servers, PostgreSQL, Redis and nginx.

Every wait is bounded: each HTTP call has a timeout (tests/client.py), retries are
counted, and the processes are (re)started with Production's own time limits.
The tests that stop a process put it back before they end, and a process killed with
``kill -9`` is started again by the supervisor, which the test waits for, so the order of
the tests does not matter (the kill -9 tests come last, a Rasa server's the slowest; every process is back
within 10 s).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from bot.diagnostic.questionnaire import load_questionnaire
from bot.runtime.production import START_TIMEOUT, Production
from bot.runtime.rasa_config import TRACKER_STORE_CLASS
from bot.store.tables import Diagnostic
from bot.web.ratelimit import REDIS_PREFIX
from tests.client import TIMEOUT, Client, asked_position, payload, texts
from tests.production.conftest import WIDGET_ORIGIN
from tests.sockets import assert_listens_on_loopback_only, listening_addresses

ANSWERS = {
    "actor_type": "association", "size": "pme", "scale": "region", "theme": "emploi",
    "experience": "ponctuel", "partners": "entreprises", "organisation": "convention", "evaluation": "indicateurs",
    "resources": "temps", "support": "connait", "goal": "salaries", "partners_wanted": "entreprises",
    "horizon": "moyen",
}  # fmt: skip
RESULT_MARKER = "porte d'entrée"
UNAVAILABLE = "momentanément indisponible"
CONFIRM = "/confirm_result"  # « C'est bon, voir mon résultat », after the recap
PG_RESTART_TIMEOUT_S = 120
RATE_KEY_PREFIX = f"{REDIS_PREFIX}:"
LOG_WAIT_S = 5.0  # nginx's error output reaches its log file through production.py's copying thread


def question_ids() -> list[str]:
    return [question.id for question in load_questionnaire().questions]


def answer(question_id: str) -> str:
    return payload(question_id, ANSWERS[question_id])


def begin(client: Client, sender: str) -> list[dict[str, Any]]:
    assert texts(client.say(sender, "bonjour"))
    reply = client.say(sender, "/start_diagnostic")
    assert asked_position(reply) == "1/13", texts(reply)
    return reply


def answer_questions(client: Client, sender: str, ids: list[str], first_position: int) -> list[dict[str, Any]]:
    """Answer ``ids`` in order, checking each reply asks the next question; return the last reply."""
    reply: list[dict[str, Any]] = []
    for offset, question_id in enumerate(ids):
        reply = client.say(sender, answer(question_id))
        position = first_position + offset + 1
        if position <= 13:
            assert asked_position(reply) == f"{position}/13", (question_id, texts(reply))
        else:  # the last answer brings the recap; the result comes once it is confirmed
            reply = client.say(sender, CONFIRM)
    return reply


def state(client: Client, sender: str) -> dict[str, Any]:
    response = client.diagnostic(sender)
    assert response.status_code == 200, response.text
    return response.json()


def diagnostic_rows(production: Production, sender: str) -> dict[str, int]:
    """How many diagnostics the project database holds for ``sender``, by status."""
    engine = create_engine(production.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Diagnostic.status, func.count()).where(Diagnostic.conversation_id == sender)
                .group_by(Diagnostic.status)
            ).all()
    finally:
        engine.dispose()
    return {status: count for status, count in rows}


def test_the_public_server_limits_rate_and_body_size_and_logs_no_address(production: Production) -> None:
    big = requests.post(f"{production.public_url}/webhooks/rest/webhook", data=b"x" * 20_000,
                        headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert big.status_code == 413
    # 10 r/s, burst 20: 40 requests in a row from one address cannot all pass. GET is cheap: the web app refuses it.
    statuses = [requests.get(f"{production.public_url}/webhooks/rest/webhook", timeout=TIMEOUT).status_code
                for _ in range(40)]
    assert 429 in statuses, statuses
    assert not list(Path(production.run_dir).glob("*access*"))
    assert "access_log off;" in (Path(production.run_dir) / "nginx.conf").read_text(encoding="utf-8")
    # nginx logs each refusal with the client's address; the copy on disk has it replaced.
    log = Path(production.run_dir) / "nginx.log"
    deadline = time.monotonic() + LOG_WAIT_S
    while "limiting requests" not in log.read_text(encoding="utf-8") and time.monotonic() < deadline:
        time.sleep(0.1)
    logged = log.read_text(encoding="utf-8")
    assert "limiting requests" in logged and "client: -," in logged
    assert "127.0.0.1, server" not in logged and not re.search(r"client: (?!-,)", logged)
    time.sleep(3)  # let the bucket drain for the next tests


def test_only_nginx_public_server_may_listen_beyond_loopback(production: Production) -> None:
    # Here the public server too is on 127.0.0.1 (public_host): every process listens on loopback only, and the
    # analytics consumer, which only connects out to RabbitMQ and the database, listens on nothing at all.
    for name, process in production.processes.items():
        if name == "analytics":
            assert listening_addresses(process.pid) == set()
        else:
            assert_listens_on_loopback_only(name, process.pid)


def test_only_the_configured_site_may_call_the_chat_from_a_browser(production: Production) -> None:
    def allowed_origin(url: str, origin: str) -> str | None:
        response = requests.options(url, timeout=TIMEOUT, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        return response.headers.get("Access-Control-Allow-Origin")

    public_chat = f"{production.public_url}/webhooks/rest/webhook"
    assert allowed_origin(public_chat, WIDGET_ORIGIN) == WIDGET_ORIGIN
    assert allowed_origin(public_chat, "https://autre-site.example.com") is None
    # The Rasa servers answer their configured origins only, like the web app.
    for index in range(production.rasa_servers or 0):
        rasa_chat = f"{production.rasa_url(index)}/webhooks/rest/webhook"
        assert allowed_origin(rasa_chat, "https://autre-site.example.com") is None


def test_the_stores_shared_by_the_servers_are_the_configured_ones(production: Production, public: Client,
                                                                  sender: str) -> None:
    """Rasa's tracker store is the incremental one (Rasa falls back to memory, quietly, on a bad class);
    the relay counts its rate limits in Redis, where every web app would count together."""
    endpoints = (Path(production.run_dir) / "endpoints.yml").read_text(encoding="utf-8")
    assert f"type: {TRACKER_STORE_CLASS}" in endpoints
    for index in range(production.rasa_servers or 0):
        log = (Path(production.run_dir) / f"rasa{index + 1}.log").read_text(encoding="utf-8", errors="replace")
        assert "InMemoryTrackerStore" not in log
    assert texts(public.say(sender, "bonjour"))
    client = redis.Redis.from_url(production.lock_store_url, socket_timeout=5)
    try:
        key = f"{RATE_KEY_PREFIX}conversation:{sender}"
        assert client.zcard(key) == 1
        assert 0 < client.pttl(key) <= 10_000
    finally:
        client.close()


def test_messages_alternating_between_the_two_servers_keep_the_state(servers: list[Client], sender: str) -> None:
    ids = question_ids()
    assert texts(servers[0].say(sender, "bonjour"))
    reply = servers[1].say(sender, "/start_diagnostic")
    assert asked_position(reply) == "1/13", texts(reply)
    for index, question_id in enumerate(ids):
        assert state(servers[0], sender)["current_question"] == question_id
        reply = servers[index % 2].say(sender, answer(question_id))
        if index + 2 <= 13:
            assert asked_position(reply) == f"{index + 2}/13", (index, texts(reply))
        assert state(servers[0], sender)["answers"] == {key: ANSWERS[key] for key in ids[: index + 1]}
    reply = servers[1].say(sender, CONFIRM)
    assert RESULT_MARKER in texts(reply)
    final = state(servers[0], sender)
    assert final["status"] == "completed" and final["answers"] == ANSWERS
    slots = [client.tracker(sender)["slots"] for client in servers]
    assert slots[0] == slots[1]
    assert all(slots[0][question_id] == ANSWERS[question_id] for question_id in ids)


def test_two_messages_at_once_on_two_servers_are_processed_one_after_the_other(
    servers: list[Client], sender: str
) -> None:
    ids = question_ids()
    begin(servers[0], sender)
    answer_questions(servers[0], sender, ids[:1], 1)
    messages = [answer(ids[1]), answer(ids[2])]
    barrier = threading.Barrier(2, timeout=30)
    replies: dict[int, list[dict[str, Any]]] = {}
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            barrier.wait()
            replies[index] = servers[index].say(sender, messages[index])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert not errors and len(replies) == 2, errors
    assert all(texts(reply) for reply in replies.values()), replies
    # The lock store: the second message is read only once the first turn is over (its replies, then
    # action_listen). Interleaved turns would show the second user event before the first turn's end.
    events = servers[0].tracker(sender)["events"]
    users = [index for index, event in enumerate(events) if event["event"] == "user" and event["text"] in messages]
    assert len(users) == 2, [event.get("text") for event in events if event["event"] == "user"]
    first, second = users
    between = events[first + 1: second]
    assert any(event["event"] == "bot" for event in between), between
    assert [event.get("name") for event in between if event["event"] == "action"][-1] == "action_listen"
    assert any(event["event"] == "bot" for event in events[second + 1:])
    assert state(servers[0], sender)["answers"] == {key: ANSWERS[key] for key in ids[:3]}


def test_a_retried_final_answer_makes_one_completed_diagnostic(
    production: Production, public: Client, sender: str
) -> None:
    ids = question_ids()
    begin(public, sender)
    answer_questions(public, sender, ids[:-1], 1)
    public.say(sender, answer(ids[-1]))
    public.say(sender, answer(ids[-1]))  # the widget retried: the same final answer once more
    first = public.say(sender, CONFIRM)
    again = public.say(sender, CONFIRM)  # and the confirmation too
    assert RESULT_MARKER in texts(first)
    assert texts(again)
    assert state(public, sender)["status"] == "completed"
    assert diagnostic_rows(production, sender) == {"completed": 1}


def test_the_user_is_told_while_the_action_server_is_down_then_continues(
    production: Production, public: Client, sender: str
) -> None:
    ids = question_ids()
    begin(public, sender)
    answer_questions(public, sender, ids[:2], 1)
    production.stop_process("actions")
    try:
        response = requests.post(f"{public.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": answer(ids[2])}, timeout=TIMEOUT)
        # Rasa 3.6 itself answers 200 with an empty list (the action's events are lost, the form still asks
        # question 3); the web app's relay turns that into a message the user can read.
        assert response.status_code == 200, response.text
        assert UNAVAILABLE in texts(response.json()), response.text
    finally:
        production.start_actions()
    answer_questions(public, sender, ids[2:], 3)  # the user sends the same answer again, and goes on
    final = state(public, sender)
    assert final["status"] == "completed" and final["answers"] == ANSWERS


def _postgres_version() -> str:
    versions = sorted(path.name for path in Path("/etc/postgresql").glob("*") if path.name.isdigit())
    if not versions:
        pytest.fail("no local PostgreSQL cluster under /etc/postgresql: the production tests need one")
    return versions[-1]


def _wait_for_postgres(url: str) -> None:
    deadline = time.monotonic() + PG_RESTART_TIMEOUT_S
    while True:
        engine = create_engine(url, future=True)
        try:
            with engine.connect() as connection:
                connection.execute(select(1))
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            engine.dispose()


def test_the_next_messages_succeed_after_a_postgresql_restart(
    production: Production, public: Client, sender: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = question_ids()
    begin(public, sender)
    answer_questions(public, sender, ids[:3], 1)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", _postgres_version(), "main", "restart"],
                   check=True, capture_output=True, timeout=PG_RESTART_TIMEOUT_S)
    # The database accepts new connections again (checked apart from our servers): from now on every message
    # must succeed at its first try, the connections the servers had pooled before the restart being dead.
    _wait_for_postgres(production.database_url)
    started = time.monotonic()
    response = requests.post(f"{public.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": answer(ids[3])}, timeout=TIMEOUT)
    with capsys.disabled():
        print(f"\nPostgreSQL restart: the first message was answered in {time.monotonic() - started:.1f} s")
    assert response.status_code == 200, response.text
    assert asked_position(response.json()) == "5/13", texts(response.json())
    answer_questions(public, sender, ids[4:], 5)
    final = state(public, sender)
    assert final["status"] == "completed" and final["answers"] == ANSWERS
    assert diagnostic_rows(production, sender) == {"completed": 1}


# Every supervised process but the other Rasa servers (killing rasa1 says the same for them); kept in step with
# Production.process_specs() by the test below. The slowest, a Rasa server, comes last.
KILLED = ["actions", "analytics", "web", "nginx", "rasa1"]
BACK_WITHIN_S = 10.0


def test_the_kill_test_covers_every_supervised_process(production: Production) -> None:
    other_rasa_servers = {f"rasa{index + 1}" for index in range(1, production.rasa_servers or 1)}
    assert set(production.supervisor.names) - other_rasa_servers == set(KILLED)


@pytest.mark.parametrize("name", KILLED)
def test_any_process_killed_mid_diagnostic_is_back_and_nothing_is_lost(
    production: Production, public: Client, servers: list[Client], sender: str, name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = question_ids()
    begin(public, sender)
    answer_questions(public, sender, ids[:5], 1)
    crashes_before = len(production.supervisor.crashes)
    old_pid = production.kill(name)  # kill -9
    killed_at = time.monotonic()
    if name.startswith("rasa"):
        # The other server keeps serving: the user goes on at once while this one loads its model again.
        reply = public.say(sender, answer(ids[5]))
        served = time.monotonic() - killed_at
        assert asked_position(reply) == "7/13", texts(reply)
        assert served <= BACK_WITHIN_S
        reply = answer_questions(public, sender, ids[6:], 7)
        production.supervisor.wait_restarted(name, old_pid, timeout=START_TIMEOUT)
        back = time.monotonic() - killed_at  # the answers above were given while it restarted
        with capsys.disabled():
            print(f"\nproduction: {name} killed with kill -9; the user was served in {served:.1f} s by the other "
                  f"server; {name} was serving again {back:.1f} s after the kill")
        assert back <= BACK_WITHIN_S
    else:
        back = production.supervisor.wait_restarted(name, old_pid, timeout=BACK_WITHIN_S)
        with capsys.disabled():
            print(f"\nproduction: {name} killed with kill -9, serving again {back:.1f} s later")
        reply = answer_questions(public, sender, ids[5:], 6)
    assert RESULT_MARKER in texts(reply)
    final = state(public, sender)
    assert final["status"] == "completed" and final["answers"] == ANSWERS
    assert diagnostic_rows(production, sender) == {"completed": 1}
    [crash] = production.supervisor.crashes[crashes_before:]
    assert (crash.name, crash.pid, crash.returncode) == (name, old_pid, -9)
    logged = (Path(production.run_dir) / "supervisor.log").read_text(encoding="utf-8")
    assert f"{name} (pid {old_pid}) exited with signal 9 (SIGKILL)" in logged
    assert f"{name} is back (pid {production.supervisor.pid(name)})" in logged
    if name.startswith("rasa"):
        # The restarted server sees the whole conversation in the shared tracker store.
        slots = servers[0].tracker(sender)["slots"]
        assert all(slots[question_id] == ANSWERS[question_id] for question_id in ids)
        assert texts(servers[0].say(sender, "bonjour"))
