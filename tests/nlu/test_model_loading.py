"""The launcher's model loading (bot/runtime/rasa_launcher.py, fix 8) gives the parses Rasa's own loading gives.

The trained model is loaded twice in this process: by Rasa as shipped (weights built by training on one
example) and by the launcher's load (weights built by one eager prediction). Every test message, the answer
sets and the knowledge questions, must get the same intent ranking and the same entities from both.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.utils.tensorflow.models import RasaModel

from bot.runtime import rasa_launcher
from bot.runtime.stack import DEFAULT_MODEL

# Read when the module is collected, before any test runs the launcher's install().
SHIPPED_LOAD = RasaModel.__dict__["load"]
TEST_SETS = ("tests/nlu/answers_blind_test.yml", "tests/nlu/answers_dev.yml", "tests/nlu/answers_test.yml",
             "tests/knowledge/questions_test.yml", "tests/knowledge/questions_blind_test.yml")
CONFIDENCE_TOLERANCE = 1e-5


def messages() -> list[str]:
    texts = [case["text"] for name in TEST_SETS for case in yaml.safe_load(Path(name).read_text("utf-8"))["cases"]]
    return list(dict.fromkeys(texts))


def load_agent(install_fix: bool) -> tuple[Any, float]:
    from rasa.core.agent import Agent

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RasaModel, "load", SHIPPED_LOAD)
        if install_fix:
            rasa_launcher._install_eager_model_loading()
        started = time.perf_counter()
        agent = Agent.load(str(DEFAULT_MODEL))
        return agent, time.perf_counter() - started


def essentials(parse: dict[str, Any]) -> tuple[list[tuple[str, float]], list[tuple[Any, ...]]]:
    ranking = [(entry["name"], float(entry["confidence"])) for entry in parse.get("intent_ranking") or []]
    entities = [(entity.get("entity"), entity.get("value"), entity.get("start"), entity.get("end"))
                for entity in parse.get("entities") or []]
    return ranking, entities


def test_the_launchers_load_parses_every_test_message_as_rasas_own(capsys: pytest.CaptureFixture[str]) -> None:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first")
    shipped, shipped_seconds = load_agent(install_fix=False)
    fast, fast_seconds = load_agent(install_fix=True)
    texts = messages()
    assert len(texts) > 1000

    async def parse_all(agent: Any) -> list[dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]

    for text, expected, got in zip(texts, asyncio.run(parse_all(shipped)), asyncio.run(parse_all(fast))):
        (expected_ranking, expected_entities), (ranking, entities) = essentials(expected), essentials(got)
        assert [name for name, _ in ranking] == [name for name, _ in expected_ranking], text
        assert all(abs(a - b) <= CONFIDENCE_TOLERANCE for (_, a), (_, b) in zip(ranking, expected_ranking)), text
        assert entities == expected_entities, text
    with capsys.disabled():
        print(f"\nmodel load: Rasa's {shipped_seconds:.1f} s, the launcher's {fast_seconds:.1f} s "
              f"({len(texts)} messages parsed alike)")
