"""The launcher's payload shortcut (bot/runtime/rasa_launcher.py) gives the parse Rasa as shipped gives.

The trained model is loaded in this process. Every message is parsed twice by
the same processor: through Rasa's own NLU graph, and through the patched
method. A payload naming a known intent must give the same parse without
running the graph; anything else must still go through the graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from actions.forms import QUESTION_IDS, answer_payload
from bot.diagnostic.questionnaire import load_questionnaire
from bot.runtime.stack import DEFAULT_MODEL

# Typed text, and payloads Rasa must not take for an intent: unknown intent, broken
# entities, a lone slash, a slash inside a sentence.
GRAPH_MESSAGES = (
    "bonjour",
    "nous sommes une association de quartier",
    "/not_an_intent",
    "/",
    "je veux dire /answer",
    "KTR-482",
)


class CountingRunner:
    """Rasa's graph runner, counting its runs."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.runs = 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.runs += 1
        return self.runner.run(*args, **kwargs)


@pytest.fixture(scope="module")
def processor() -> Iterator[Any]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first")
    from rasa.core.agent import Agent

    agent = Agent.load(str(DEFAULT_MODEL))
    agent.processor.graph_runner = CountingRunner(agent.processor.graph_runner)
    yield agent.processor


@pytest.fixture()
def parsers(processor: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(Rasa's parse, the launcher's parse); the patch is undone after the test."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.utils.endpoints import EndpointConfig

    from bot.runtime import rasa_launcher

    shipped = MessageProcessor._parse_message_with_graph
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", shipped)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    rasa_launcher.install()
    patched = MessageProcessor._parse_message_with_graph
    assert patched is not shipped
    return shipped, patched


def payloads(domain_intents: list[str]) -> list[str]:
    survey = load_questionnaire()
    answers = [answer_payload(question.id, option.id) for question in survey.questions for option in question.choices]
    assert {question.id for question in survey.questions} == set(QUESTION_IDS)
    return [
        *answers,
        *(f"/{intent}" for intent in domain_intents),
        '/join_workshop{"workshop_code": "KTR-482"}',
        '  /answer{"question_id": "size", "choice": "s"}  ',  # spaces around, as a client may send
        '/answer@0.7{"question_id": "size", "choice": "s"}',  # a confidence written in the payload
        '/answer{"question_id": "size", "choice": "no_such_option"}',  # forged: read as a payload all the same
        '/answer{"not json"}',  # an intent with entities Rasa cannot read: kept, entities dropped
    ]


def parse_both(processor: Any, parsers: tuple[Any, Any], text: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    shipped, patched = parsers
    tracker = DialogueStateTracker.from_events("payload-shortcut", [])
    message = UserMessage(text, sender_id="payload-shortcut")
    expected = shipped(processor, message, tracker)
    before = processor.graph_runner.runs
    got = patched(processor, message, tracker)
    return expected, got, processor.graph_runner.runs - before


def test_known_payloads_skip_the_graph_with_the_same_parse(processor: Any, parsers: tuple[Any, Any]) -> None:
    texts = payloads(list(processor.domain.intents))
    assert len(texts) > 60
    for text in texts:
        expected, got, graph_runs = parse_both(processor, parsers, text)
        assert got == expected, text
        assert graph_runs == 0, text
        assert got["intent"]["name"] in processor.domain.intents, text


def test_other_messages_still_go_through_the_graph(processor: Any, parsers: tuple[Any, Any]) -> None:
    for text in GRAPH_MESSAGES:
        expected, got, graph_runs = parse_both(processor, parsers, text)
        assert got == expected, text
        assert graph_runs == 1, text


def test_the_whole_parse_path_uses_the_shortcut(processor: Any, parsers: tuple[Any, Any]) -> None:
    """Through ``parse_message``, as the REST channel and /model/parse call it."""
    from rasa.core.channels.channel import UserMessage

    text = answer_payload("size", load_questionnaire().question("size").options[0].id)
    before = processor.graph_runner.runs
    parse = asyncio.run(processor.parse_message(UserMessage(text, sender_id="payload-shortcut")))
    assert processor.graph_runner.runs == before
    assert parse["intent"] == {"name": "answer", "confidence": 1.0}
    assert {entity["entity"]: entity["value"] for entity in parse["entities"]} == {
        "question_id": "size", "choice": load_questionnaire().question("size").options[0].id}
