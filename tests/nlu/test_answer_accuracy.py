"""Answer-mapping accuracy of the running assistant on the independent test set.

Each case of ``answers_test.yml`` is a message typed while a given question was
asked. It goes through the real NLU (``/model/parse`` of the running Rasa
server) and the same reading code as the action server (``bot.diagnostic.answers``).
The gate: at least 92 % of the cases map to the expected option. A report with
every miss is written to ``tests/output/nlu_accuracy.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from bot.diagnostic.answers import interpret
from bot.diagnostic.questionnaire import load_questionnaire
from tests.client import Client

CASES_FILE = Path(__file__).with_name("answers_test.yml")
REPORT = Path(__file__).resolve().parents[1] / "output" / "nlu_accuracy.json"
REQUIRED_ACCURACY = 0.92
MINIMUM_CASES = 300


def as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset(value) if isinstance(value, list) else frozenset([value])


def test_test_set_is_large_and_covers_every_option() -> None:
    cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    assert len(cases) >= MINIMUM_CASES
    survey = load_questionnaire()
    seen = {(case["question"], option) for case in cases for option in as_set(case["expect"])}
    missing = [(q.id, o.id) for q in survey.questions for o in q.options if (q.id, o.id) not in seen]
    assert missing == []


def test_answer_mapping_accuracy(client: Client) -> None:
    survey = load_questionnaire()
    cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    misses: list[dict[str, Any]] = []
    extra_total = extra_right = 0
    per_question: dict[str, list[int]] = {}
    for case in cases:
        parse = client.parse(case["text"])
        reading = interpret(survey, parse, case["question"], {})
        got = reading.answers.get(case["question"])
        right = as_set(got) == as_set(case["expect"])
        per_question.setdefault(case["question"], [0, 0])
        per_question[case["question"]][0] += int(right)
        per_question[case["question"]][1] += 1
        if not right:
            misses.append({"question": case["question"], "text": case["text"], "expected": case["expect"],
                           "got": got, "intent": (parse.get("intent") or {}).get("name")})
        for question_id, expected in (case.get("also") or {}).items():
            extra_total += 1
            extra_right += int(as_set(reading.answers.get(question_id)) == as_set(expected))
    accuracy = 1 - len(misses) / len(cases)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({
        "cases": len(cases),
        "accuracy": round(accuracy, 4),
        "per_question": {q: f"{right}/{total}" for q, (right, total) in per_question.items()},
        "extra_answers_in_same_message": f"{extra_right}/{extra_total}",
        "misses": misses,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"answer-mapping accuracy: {accuracy:.1%} on {len(cases)} cases; "
          f"extra answers {extra_right}/{extra_total}; report {REPORT}")
    assert accuracy >= REQUIRED_ACCURACY, f"{accuracy:.1%} < {REQUIRED_ACCURACY:.0%}, see {REPORT}"
