"""How well the running assistant reads typed answers: read right, stored wrong, or asked back.

Each case is a message typed while a given question was asked. It goes through the real NLU
(``/model/parse`` of the running Rasa server) and the same reading code as the action server
(``bot.diagnostic.answers``). A case is **read right** when the expected option is stored, **stored
wrong** when another option is stored (the worst outcome: the result is built on it), and **asked**
when nothing is stored (a doubt offered as buttons, or « je n'ai pas compris »).

Two sets are gated:

- ``answers_blind_test.yml``: 353 messages written by a reader who saw only the questionnaire's
  specification, never the training data; never tuned on: its misses are read only as categories
  (per question, per way of reading). Gates: at least 95 % read right, at most 1 % stored wrong.
- ``answers_test.yml``: the project's older set (355 messages), read during development: at least 95 %.

``answers_dev.yml`` (391 messages, written blind too) is the development set the thresholds were tuned
on; it is measured and reported, not gated. Every figure goes to tests/output/nlu_accuracy.json.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.diagnostic.answers import interpret
from bot.diagnostic.questionnaire import load_questionnaire
from tests.client import Client

HERE = Path(__file__).parent
REPORT = Path(__file__).resolve().parents[1] / "output" / "nlu_accuracy.json"
MINIMUM_CASES = 300
GATES = {  # set: (at least read right, at most stored wrong)
    "answers_blind_test.yml": (0.95, 0.01),
    "answers_test.yml": (0.95, None),
}
REPORTED = ("answers_dev.yml",)


def as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset(value) if isinstance(value, list) else frozenset([value])


def cases_of(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))["cases"]


def measure(client: Client, name: str) -> dict[str, Any]:
    """Read right / stored wrong / asked, overall, per question and per way of reading (no message quoted)."""
    survey = load_questionnaire()
    outcomes: Counter[str] = Counter()
    per_question: dict[str, Counter[str]] = {}
    per_way: Counter[str] = Counter()
    cases = cases_of(name)
    for case in cases:
        reading = interpret(survey, client.parse(case["text"]), case["question"], {})
        got = reading.answers.get(case["question"])
        outcome = "asked" if got is None else "right" if as_set(got) == as_set(case["expect"]) else "wrong"
        outcomes[outcome] += 1
        per_question.setdefault(case["question"], Counter())[outcome] += 1
        way = reading.how.get(case["question"]) or ("doubt" if case["question"] in reading.doubts else "none")
        per_way[f"{outcome}:{way}"] += 1
    total = len(cases)
    return {
        "cases": total,
        "right": round(outcomes["right"] / total, 4),
        "wrong": round(outcomes["wrong"] / total, 4),
        "asked": round(outcomes["asked"] / total, 4),
        "per_question": {question: f"{counts['right']} right, {counts['wrong']} wrong, {counts['asked']} asked"
                         for question, counts in per_question.items()},
        "per_way_of_reading": dict(sorted(per_way.items())),
    }


@pytest.fixture(scope="module")
def figures(client: Client) -> dict[str, dict[str, Any]]:
    measured = {name: measure(client, name) for name in (*GATES, *REPORTED)}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(measured, ensure_ascii=False, indent=2), encoding="utf-8")
    for name, result in measured.items():
        print(f"{name}: {result['right']:.1%} read right, {result['wrong']:.1%} stored wrong, "
              f"{result['asked']:.1%} asked, on {result['cases']} messages")
        for question, line in result["per_question"].items():
            print(f"    {question:16s} {line}")
    return measured


@pytest.mark.parametrize("name", [*GATES, *REPORTED])
def test_each_set_is_large_and_covers_every_question(name: str) -> None:
    cases = cases_of(name)
    assert len(cases) >= MINIMUM_CASES
    assert {case["question"] for case in cases} == set(load_questionnaire().question_ids)


@pytest.mark.parametrize("name", list(GATES))
def test_answers_are_read_right_and_never_stored_wrong(figures: dict[str, dict[str, Any]], name: str) -> None:
    least_right, most_wrong = GATES[name]
    result = figures[name]
    assert result["right"] >= least_right, f"{name}: {result['right']:.1%} read right < {least_right:.0%}, {REPORT}"
    if most_wrong is not None:
        assert result["wrong"] <= most_wrong, f"{name}: {result['wrong']:.1%} stored wrong > {most_wrong:.0%}"
