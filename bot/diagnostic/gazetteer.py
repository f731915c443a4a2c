"""Known ways of writing each answer, read from the NLU training data.

DIET sometimes misses an entity it was trained on, or gives a word the type it
has in another question (« la comcom » is a scale, but also who you are). The
gazetteer lists every annotated span and every synonym of the training data
(``data/rasa/nlu``) with the entity types and values it stands for, so that
:mod:`bot.diagnostic.answers` can find them in a message, longest first, and keep the ones
that fit the question asked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from bot.diagnostic.text import normalise
from bot.paths import DATA_DIR

NLU_DIR = DATA_DIR / "rasa" / "nlu"
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\]\{(?P<json>[^}]*)\}")
_FIELD = re.compile(r'"(?P<key>entity|value)"\s*:\s*"(?P<value>[^"]*)"')
MIN_SURFACE_LENGTH = 3


class Gazetteer:
    """Normalised surface text → {(entity type, value)}."""

    def __init__(self, surfaces: dict[str, set[tuple[str, str]]]) -> None:
        self.surfaces = {surface: frozenset(meanings) for surface, meanings in surfaces.items()
                         if len(surface) >= MIN_SURFACE_LENGTH}
        self.by_length = sorted(self.surfaces, key=len, reverse=True)

    def find(self, text: str) -> list[tuple[str, str, int, str]]:
        """(entity type, value, position, surface) of every known surface in ``text``, in the order they appear.

        Positions are in ``" " + normalise(text) + " "``; longer surfaces are matched first.

        A shorter surface inside a longer one already found is skipped
        (« petite entreprise » is not also « entreprise »).
        """
        padded = f" {normalise(text)} "
        taken: list[tuple[int, int]] = []
        found: list[tuple[str, str, int, str]] = []
        for surface in self.by_length:
            start = padded.find(f" {surface} ")
            while start >= 0:
                span = (start, start + len(surface) + 2)
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.append(span)
                    found.extend((kind, value, start, surface) for kind, value in sorted(self.surfaces[surface]))
                start = padded.find(f" {surface} ", start + 1)
        return sorted(found, key=lambda item: item[2])


def build(documents: Iterable[object]) -> Gazetteer:
    surfaces: dict[str, set[tuple[str, str]]] = defaultdict(set)
    types_of_value: dict[str, set[str]] = defaultdict(set)
    synonyms: list[tuple[str, list[str]]] = []
    for document in documents:
        for item in (document or {}).get("nlu") or []:
            examples = [line.strip()[2:] for line in str(item.get("examples") or "").splitlines()
                        if line.strip().startswith("- ")]
            if "synonym" in item:
                synonyms.append((str(item["synonym"]), examples))
                continue
            for example in examples:
                for match in _ANNOTATION.finditer(example):
                    fields = {m["key"]: m["value"] for m in _FIELD.finditer(match["json"])}
                    if "entity" not in fields:
                        continue
                    value = fields.get("value", match["text"])
                    surfaces[normalise(match["text"])].add((fields["entity"], value))
                    types_of_value[value].add(fields["entity"])
    for value, examples in synonyms:
        for example in [value, *examples]:
            for kind in types_of_value.get(value, ()):
                surfaces[normalise(example)].add((kind, value))
    return Gazetteer(surfaces)


@lru_cache(maxsize=1)
def gazetteer(directory: Path = NLU_DIR) -> Gazetteer:
    """The gazetteer of the project's training data (built once per process)."""
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yml"))]
    return build(documents)
