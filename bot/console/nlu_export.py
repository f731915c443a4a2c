"""The labelled inbox messages as Rasa NLU training data (``version: "3.1"``).

Where each label goes follows the project's training data (data/rasa/nlu):

- an answer whose option has its own intent (``inform_<question>_<option>``, the maturity, means
  and wishes questions) goes under that intent;
- an answer to a profile question (actor type, size, scale, theme) or a partner type goes under
  ``inform``, the whole message annotated as the entity whose value is the option id, as profile.yml does;
- « Je ne sais pas » (``nsp``) goes under ``dont_know``;
- an intent label goes under that intent.

Square brackets in a message are written as parentheses: Rasa would read ``[…](…)`` as an entity.
A message already in the training data, or given two labels, is left out (``rasa data validate``
warns about an example under two intents).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.diagnostic.questionnaire import NSP
from bot.paths import DATA_DIR
from bot.store.analytics_tables import LABEL_ANSWER, LABEL_INTENT

NLU_DIR = DATA_DIR / "rasa" / "nlu"
INFORM = "inform"
DONT_KNOW = "dont_know"
#: Intents an owner can choose for a message: all those of the training data but the answer intents
#: (answers are labelled as an answer to a question) and those that need entities.
HIDDEN_INTENTS = re.compile(r"^(inform(_.*)?|join_workshop)$")
#: The entity that carries a question's option, when it is not named after the question.
QUESTION_ENTITY = {"partners": "partner_type", "partners_wanted": "partner_type"}
ENTITY_ANNOTATION = re.compile(r'\{"entity":\s*"(\w+)",\s*"value":\s*"(\w+)"\}')
EXAMPLE_LINE = re.compile(r"^\s*-\s+(.*)$")
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")


@dataclass(frozen=True)
class TrainingData:
    """What the export needs to know of data/rasa/nlu."""

    intents: frozenset[str]
    entity_values: frozenset[tuple[str, str]]
    examples: frozenset[str]

    @property
    def labelling_intents(self) -> list[str]:
        return sorted(intent for intent in self.intents if not HIDDEN_INTENTS.match(intent))


@dataclass
class Export:
    yaml_text: str
    examples: int
    #: (text, reason) of the labelled messages left out.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _plain(example: str) -> str:
    """An example as a user typed it (its annotations removed), for comparisons."""
    return " ".join(ANNOTATION.sub(r"\1", example).split()).casefold()


def read_training_data(directory: Path = NLU_DIR) -> TrainingData:
    intents: set[str] = set()
    values: set[tuple[str, str]] = set()
    examples: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        values.update(ENTITY_ANNOTATION.findall(text))
        for item in (yaml.safe_load(text) or {}).get("nlu") or []:
            if isinstance(item, dict) and "intent" in item:
                intents.add(str(item["intent"]))
                for line in str(item.get("examples") or "").splitlines():
                    if match := EXAMPLE_LINE.match(line):
                        examples.add(_plain(match.group(1)))
    return TrainingData(frozenset(intents), frozenset(values), frozenset(examples))


@lru_cache(maxsize=1)
def training_data() -> TrainingData:
    """The project's training data, read once per process."""
    return read_training_data()


def clean_text(text: str) -> str:
    """One line, no square brackets, no braces (they would be read as annotations)."""
    flat = " ".join(text.split())
    return flat.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")


def destination(kind: str, question: str | None, option: str | None, intent: str | None, text: str,
                data: TrainingData) -> tuple[str, str] | str:
    """(intent, example) for one labelled message, or the French reason it cannot be exported."""
    if kind == LABEL_INTENT:
        return (intent, text) if intent in data.intents else f"l'intention « {intent} » n'existe plus"
    if kind != LABEL_ANSWER or not question or not option:
        return "étiquette incomplète"
    if option == NSP:
        return DONT_KNOW, text
    own = f"inform_{question}_{option}"
    if own in data.intents:
        return own, text
    entity = QUESTION_ENTITY.get(question, question)
    if (entity, option) in data.entity_values:
        return INFORM, f"[{text}]{json.dumps({'entity': entity, 'value': option}, separators=(', ', ': '))}"
    return f"aucune intention des données d'entraînement ne porte la réponse « {option} » à « {question} »"


def export_yaml(labelled: Iterable[tuple[str, str | None, str | None, str | None, str]],
                data: TrainingData | None = None) -> Export:
    """Rasa NLU YAML of ``labelled`` rows (kind, question, option, intent, text), see :func:`inbox.labelled_texts`."""
    data = data or training_data()
    by_intent: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for kind, question, option, intent, raw_text in labelled:
        text = clean_text(raw_text)
        if not text:
            continue
        key = _plain(text)
        found = destination(kind, question, option, intent, text, data)
        if isinstance(found, str):
            skipped.append((text, found))
            continue
        target, example = found
        if key in data.examples:
            skipped.append((text, "déjà dans les données d'entraînement"))
            continue
        if key in seen:
            if seen[key] != target:
                skipped.append((text, "étiqueté de deux façons différentes"))
                by_intent[seen[key]] = [item for item in by_intent[seen[key]] if _plain(item) != key]
                seen[key] = ""
            continue
        seen[key] = target
        by_intent.setdefault(target, []).append(example)
    lines = ["# Messages de la boîte de réception de la console, étiquetés par vous (python -m bot.console export-nlu).",
             'version: "3.1"', "nlu:"]
    count = 0
    for target in sorted(by_intent):
        if not by_intent[target]:
            continue
        lines += [f"- intent: {target}", "  examples: |"]
        lines += [f"    - {example}" for example in by_intent[target]]
        count += len(by_intent[target])
    if count == 0:
        lines[-1] = "nlu: []"
    return Export("\n".join(lines) + "\n", count, skipped)
