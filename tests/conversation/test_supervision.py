"""`make run`'s stack heals itself: any one process killed with ``kill -9`` in the middle of a diagnostic is
started again by the supervisor (bot/runtime/supervisor.py), and the user finishes the diagnostic with nothing lost.

The user talks through the web app's relay, as the widget does. Each test waits until the killed process
serves again, so the shared stack is whole for the next tests. Every process, the Rasa server
included (it loads its model again: about 7 s, docs/performance.md), serves again within 10 s of the kill.
"""

from __future__ import annotations

import time

import pytest

from bot.diagnostic.questionnaire import load_questionnaire
from bot.runtime.stack import RASA_START_TIMEOUT, Stack
from tests.client import Client, asked_position, payload, texts
from tests.conversation.test_diagnostic_flow import BUTTON_ANSWERS

BACK_WITHIN_S = 10.0
RESULT_MARKER = "porte d'entrée recommandée"
ANSWERED_BEFORE_THE_KILL = 6


@pytest.mark.parametrize("name", ["actions", "web", "rasa"])
def test_a_process_killed_mid_diagnostic_is_back_and_the_diagnostic_ends_with_nothing_lost(
    stack: Stack, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = load_questionnaire().questions
    user = Client(stack.web_url, stack.web_url, stack.api_token)
    sender = user.new_sender(f"kill-{name}")
    user.say(sender, "bonjour")
    reply = user.say(sender, "/start_diagnostic")
    for question in questions[:ANSWERED_BEFORE_THE_KILL]:
        reply = user.say(sender, payload(question.id, BUTTON_ANSWERS[question.id]))
    assert asked_position(reply) == f"{ANSWERED_BEFORE_THE_KILL + 1}/13", texts(reply)
    crashes_before = len(stack.supervisor.crashes)

    old_pid = stack.kill(name)
    # Waits longer than the limit, so that a slow restart fails the assertion below with its time,
    # and the shared stack is whole again for the next tests.
    back = stack.supervisor.wait_restarted(name, old_pid, timeout=RASA_START_TIMEOUT)
    with capsys.disabled():
        print(f"\nmake run: {name} killed with kill -9, serving again {back:.1f} s later")
    assert back <= BACK_WITHIN_S

    [crash] = stack.supervisor.crashes[crashes_before:]
    assert (crash.name, crash.pid, crash.returncode) == (name, old_pid, -9)
    logged = stack.supervisor.log_path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert f"{name} (pid {old_pid}) exited with signal 9 (SIGKILL)" in logged
    assert f"{name} is back (pid {stack.supervisor.pid(name)})" in logged

    started = time.monotonic()
    for position, question in enumerate(questions[ANSWERED_BEFORE_THE_KILL:], start=ANSWERED_BEFORE_THE_KILL + 1):
        assert asked_position(reply) == f"{position}/13", texts(reply)
        reply = user.say(sender, payload(question.id, BUTTON_ANSWERS[question.id]))
        if position == ANSWERED_BEFORE_THE_KILL + 1:
            first_answer_s = time.monotonic() - started
    assert "Avant votre résultat" in texts(reply)
    reply = user.say(sender, "/confirm_result")
    assert RESULT_MARKER in texts(reply)
    state = user.diagnostic(sender).json()
    assert state["status"] == "completed" and state["answers"] == BUTTON_ANSWERS
    with capsys.disabled():
        print(f"make run: the first answer after {name} came back took {first_answer_s:.1f} s")
