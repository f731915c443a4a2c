"""Knowledge questions answered over REST by the running assistant.

A case is right when the reply (all its messages) contains one of the strings the case expects, compared
without case or accents. Each question is asked in a fresh conversation. Two sets:

- ``questions_test.yml``: the project's own 94 questions, written from the knowledge base (read during
  development); gate 95 %;
- ``questions_blind_test.yml``: 79 questions written blind from the seeds only (never from the knowledge
  base, never tuned on: its misses are read only as categories, by kind of question); its figure is
  reported and gated at what was reached.

Every miss of the own set is written to tests/output/knowledge_accuracy.json; for the blind set, only
the counts by kind.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.diagnostic.text import normalise
from tests.client import Client, texts

HERE = Path(__file__).parent
REPORT = Path(__file__).resolve().parents[1] / "output" / "knowledge_accuracy.json"
# The blind set is gated at what is reached: 63.3 % (50/79) with each of three trainings of 2026-12-03, the
# same misses every time (64.6 % was measured earlier that day with a model trained before the last NLU data
# changes). Its weak kinds are glossary terms and general questions (docs/benchmarks.md).
GATES = {"questions_test.yml": 0.95, "questions_blind_test.yml": 0.63}
BLIND = "questions_blind_test.yml"


def ask_all(client: Client, name: str) -> dict[str, Any]:
    cases = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))["cases"]
    misses = []
    for case in cases:
        reply = texts(client.say(client.new_sender("kb"), case["text"]))
        if not any(normalise(expected) in normalise(reply) for expected in case["expect_any"]):
            misses.append({"text": case["text"], "kind": case["kind"], "expected": case["expect_any"][:5],
                           "reply": reply[:300]})
    accuracy = 1 - len(misses) / len(cases)
    kinds = Counter(case["kind"] for case in cases)
    missed = Counter(miss["kind"] for miss in misses)
    return {"cases": len(cases), "accuracy": round(accuracy, 4),
            "by_kind": {kind: f"{count - missed[kind]}/{count}" for kind, count in sorted(kinds.items())},
            "misses": [] if name == BLIND else misses}


@pytest.fixture(scope="module")
def figures(client: Client) -> dict[str, dict[str, Any]]:
    measured = {name: ask_all(client, name) for name in GATES}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(measured, ensure_ascii=False, indent=2), encoding="utf-8")
    for name, result in measured.items():
        print(f"knowledge answers, {name}: {result['accuracy']:.1%} right on {result['cases']} questions; "
              f"by kind {result['by_kind']}")
    return measured


@pytest.mark.parametrize("name", list(GATES))
def test_knowledge_questions_over_rest(figures: dict[str, dict[str, Any]], name: str) -> None:
    assert figures[name]["cases"] >= (60 if name != BLIND else 30)
    assert figures[name]["accuracy"] >= GATES[name], f"{name}: {figures[name]['accuracy']:.1%} < {GATES[name]:.0%}"


def test_where_does_this_figure_come_from(client: Client) -> None:
    sender = client.new_sender("source")
    answer = texts(client.say(sender, "combien de partenariats y a-t-il en France ?"))
    assert "source :" in answer
    follow_up = texts(client.say(sender, "/ask_source"))
    assert ".txt" in follow_up and "l." in follow_up


def test_more_examples_never_repeats(client: Client) -> None:
    sender = client.new_sender("more")
    first = texts(client.say(sender, "/ask_examples"))
    second = texts(client.say(sender, "/more_examples"))
    names = [line.split("**")[1] for line in (first + "\n" + second).splitlines() if line.startswith("- **")]
    assert len(names) == 6 and len(set(names)) == 6
