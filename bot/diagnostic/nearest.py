"""A second opinion for the sentence-level questions: the training example closest to the message.

DIET classifies a message among every intent of the assistant; a message full of profile words
(« accueillir des salariés bénévoles d'entreprises ») may then go to ``inform`` and leave every option of the
question asked near zero. The options of one question are then compared directly: each option's training
examples (``inform_<question>_<option>`` in data/rasa/nlu) against the message, by TF-IDF cosine over word
stems (negations kept: « pas », « jamais » change the answer). The best example of each option gives its
score. Built once per process from the same files as the gazetteer.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from bot.diagnostic.gazetteer import NLU_DIR
from bot.diagnostic.text import normalise

OPTION_INTENT = re.compile(r"^inform_(?P<question>[a-z_]+?)_(?P<option>[a-z]+)$")
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\]\{[^}]*\}")
_ENTITY = re.compile(r'"entity"\s*:\s*"([a-z_]+)"\s*,\s*"value"\s*:\s*"([a-z_]+)"')
PROFILE_INTENT = "inform"
# The profile questions whose entity has the question's name (partner types answer two questions: not here).
PROFILE_TYPES = frozenset({"actor_type", "size", "scale", "theme"})
STEM = 5
# Frequent words that carry no answer; negations and quantities are NOT here: they decide answers.
STOP_WORDS = frozenset(
    ["le", "la", "les", "l", "un", "une", "des", "de", "du", "d", "et", "ou", "a", "au", "aux", "en", "dans", "sur", "pour", "par", "avec", "ce", "c", "ca", "cela", "cette", "ces", "est", "sont", "on", "nous", "vous", "je", "j", "me", "m", "se", "s", "y", "il", "elle", "ils", "elles", "qui", "que", "qu", "quoi", "dont", "mais", "donc", "car", "si", "tout", "tous", "toute", "toutes", "notre", "nos", "votre", "vos", "leur", "leurs", "mon", "ma", "mes", "son", "sa", "ses", "ai", "as", "avons", "avez", "ont", "etre", "avoir", "fait", "faire", "bien", "tres", "trop", "deja", "encore", "comme"]
)


def terms(text: str) -> list[str]:
    """The stems of the meaningful words of ``text``."""
    return [word[:STEM] for word in normalise(text).split() if word not in STOP_WORDS]


class NearestExamples:
    """TF-IDF vectors of every option example, grouped by question."""

    def __init__(self, examples: Mapping[str, Mapping[str, list[str]]]) -> None:
        documents = [terms(text) for options in examples.values() for texts in options.values() for text in texts]
        frequency = Counter(term for document in documents for term in set(document))
        self.idf = {term: math.log((1 + len(documents)) / (1 + count)) + 1 for term, count in frequency.items()}
        self.vectors: dict[str, list[tuple[str, dict[str, float]]]] = defaultdict(list)
        for question_id, options in examples.items():
            for option_id, texts in options.items():
                for text in texts:
                    vector = self.vector(text)
                    if vector:
                        self.vectors[question_id].append((option_id, vector))

    def vector(self, text: str) -> dict[str, float]:
        counts = Counter(terms(text))
        weights = {term: count * self.idf.get(term, 1.0) for term, count in counts.items()}
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        return {term: weight / norm for term, weight in weights.items()} if norm else {}

    def ranking(self, question_id: str, text: str) -> list[tuple[float, str]]:
        """(best similarity, option id) for each option of the question, best first."""
        message = self.vector(text)
        best: dict[str, float] = {}
        for option_id, vector in self.vectors.get(question_id, ()):
            similarity = sum(weight * vector.get(term, 0.0) for term, weight in message.items())
            if similarity > best.get(option_id, 0.0):
                best[option_id] = similarity
        return sorted(((similarity, option_id) for option_id, similarity in best.items()), reverse=True)


def collect(documents: Iterable[object]) -> dict[str, dict[str, list[str]]]:
    """question id -> option id -> examples, from NLU YAML documents: the option intents of the sentence-level
    questions, and for the profile questions the statements annotated with that question's entity."""
    examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for document in documents:
        for item in (document or {}).get("nlu") or []:
            intent = str(item.get("intent") or "")
            match = OPTION_INTENT.match(intent)
            for line in str(item.get("examples") or "").splitlines():
                if not line.strip().startswith("- "):
                    continue
                example = line.strip()[2:]
                text = _ANNOTATION.sub(r"\g<text>", example)
                if match:
                    examples[match["question"]][match["option"]].append(text)
                elif intent == PROFILE_INTENT:
                    for entity_type, value in _ENTITY.findall(example):
                        if entity_type in PROFILE_TYPES:
                            examples[entity_type][value].append(text)
    return examples


@lru_cache(maxsize=1)
def nearest_examples(directory: Path = NLU_DIR) -> NearestExamples:
    """The index of the project's training examples (built once per process)."""
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yml"))]
    return NearestExamples(collect(documents))
