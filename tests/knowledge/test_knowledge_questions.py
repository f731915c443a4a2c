"""Knowledge questions answered over REST by the running assistant; the gate is 90 % right answers.

A case is right when the reply (all its messages) contains one of the strings
the case expects, compared without case or accents. Each question is asked in a
fresh conversation. Every miss is written to tests/output/knowledge_accuracy.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bot.diagnostic.text import normalise
from tests.client import Client, texts

CASES_FILE = Path(__file__).with_name("questions_test.yml")
REPORT = Path(__file__).resolve().parents[1] / "output" / "knowledge_accuracy.json"
REQUIRED = 0.90


def test_knowledge_questions_over_rest(client: Client) -> None:
    cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    assert len(cases) >= 60
    misses = []
    for case in cases:
        reply = texts(client.say(client.new_sender("kb"), case["text"]))
        if not any(normalise(expected) in normalise(reply) for expected in case["expect_any"]):
            misses.append({"text": case["text"], "kind": case["kind"], "expected": case["expect_any"][:5],
                           "reply": reply[:300]})
    accuracy = 1 - len(misses) / len(cases)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"cases": len(cases), "accuracy": round(accuracy, 4), "misses": misses},
                                 ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"knowledge answers: {accuracy:.1%} right on {len(cases)} questions; report {REPORT}")
    assert accuracy >= REQUIRED, f"{accuracy:.1%} < {REQUIRED:.0%}, see {REPORT}"


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
