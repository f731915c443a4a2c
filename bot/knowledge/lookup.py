"""Answering knowledge questions from the catalogue: what things are, lists, figures, sources.

Plain Python used by the actions: find what « c'est quoi X ? » is about, look X
up among glossary terms, doors, tools, examples and support structures, list
search results three at a time, and say where each fact comes from.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import yaml

from bot.diagnostic.text import normalise
from bot.knowledge.model import KNOWLEDGE_DIR, Catalogue, Entry, Source

PAGE_SIZE = 3
LOOKUP_KINDS = ("term", "door", "tool", "example", "support_structure")
MIN_NAME_SIMILARITY = 0.8
# Words that link the words of a name (« l'alliance DE la poste ») and say nothing of which entry it is.
_LINK_WORDS = frozenset(["l", "la", "le", "les", "de", "du", "des", "d", "un", "une", "et", "a", "au", "aux", "en", "pour", "sur"])
# What people put around the thing they ask about (« c'est quoi », « ça veut dire quoi »…).
_QUESTION_FRAME = re.compile(
    r"\b(?:c est quoi|c quoi|cest quoi|qu est ce que c est|qu est ce que|qu est ce qu|que veut dire|que signifie|"
    r"ca veut dire quoi|ca veut dire|veut dire quoi|signifie quoi|definition de|definition d|definition|"
    r"definis|definir|explique moi|expliquez moi|explique|expliquez|parle moi de|parlez moi de|dis moi|"
    r"c est|quoi|le sens de|la|le|les|l|un|une|des|du|de|d|svp|stp|s il vous plait|exactement|donc)\b"
)


def subject_of(question: str) -> str:
    """The thing a « c'est quoi X ? » question is about, normalised (« odd 17 »)."""
    text = normalise(question)
    previous = None
    while previous != text:  # strip the frame words from both ends until nothing changes
        previous = text
        text = re.sub(rf"^(?:{_QUESTION_FRAME.pattern})\s*", "", text).strip()
        text = re.sub(rf"\s*(?:{_QUESTION_FRAME.pattern})$", "", text).strip()
    return text


def names_of(entry: Entry) -> list[str]:
    """The entry's names, normalised (computed once per entry and process: a look-up reads every entry's)."""
    cached = _NAMES.get(id(entry))
    if cached is not None and cached[0] is entry:
        return cached[1]
    names = [*entry.names, entry.id.replace("_", " ")]
    if entry.kind == "door":
        names.append(entry.get("label", ""))
    normalised = [normalise(name) for name in names if name]
    if len(_NAMES) >= _MAX_CACHED:
        _NAMES.clear()
    _NAMES[id(entry)] = (entry, normalised)  # the entry is kept, so its id is not reused while cached
    return normalised


# Entries are frozen but hold dicts (not hashable): the caches are keyed by id and keep the object itself.
_MAX_CACHED = 20_000
_NAMES: dict[int, tuple[Entry, list[str]]] = {}
# (catalogue, kinds) -> the candidate names of a look-up, with the words that count
_CANDIDATES: dict[tuple[int, tuple[str, ...]], tuple[Catalogue, list[tuple[Entry, str, frozenset[str], int]]]] = {}


def _candidates(catalogue: Catalogue, kinds: Sequence[str]) -> list[tuple[Entry, str, frozenset[str], int]]:
    """Every (entry, name, its words without link words, how many) of ``kinds``, in catalogue order; cached."""
    key = (id(catalogue), tuple(kinds))
    cached = _CANDIDATES.get(key)
    if cached is not None and cached[0] is catalogue:
        return cached[1]
    candidates = []
    for kind in kinds:
        for entry in catalogue.of(kind):
            for name in names_of(entry):
                words = [word for word in name.split() if word not in _LINK_WORDS]
                candidates.append((entry, name, frozenset(words), len(words)))
    if len(_CANDIDATES) >= 64:
        _CANDIDATES.clear()
    _CANDIDATES[key] = (catalogue, candidates)
    return candidates


def coverage(entry: Entry, subject: str) -> float:
    """The share of the subject's words that the entry's best name contained in it covers (0 to 1)."""
    words = set(normalise(subject).split())
    if not words:
        return 0.0
    padded = f" {normalise(subject)} "
    covered = [set(name.split()) for name in names_of(entry)
               if f" {name} " in padded or set(name.split()) - _LINK_WORDS <= words]
    return max((len(name & words) / len(words) for name in covered), default=0.0)


def lookup(catalogue: Catalogue, subject: str, kinds: Sequence[str] = LOOKUP_KINDS, loose: bool = True) -> Entry | None:
    """The entry named by ``subject``: exact name or alias, then a name it contains.

    With ``loose``, also a name that contains the subject, then a close spelling.
    """
    if not subject:
        return None
    candidates = _candidates(catalogue, kinds)
    for entry, name, _words, _count in candidates:
        if name == subject:
            return entry
    padded = f" {subject} "
    subject_words = set(subject.split())
    contained = []
    for entry, name, words, count in candidates:
        # The name itself, or all its words in another order (« l'alliance dynamique de la poste »).
        if (len(name) > 3 and f" {name} " in padded) or (count >= 2 and words <= subject_words):
            contained.append(((count, len(name)), entry))
    if contained:
        return max(contained, key=lambda item: item[0])[1]
    if not loose:
        return None
    containing = [(len(name), entry) for entry, name, _words, _count in candidates
                  if len(subject) > 3 and f" {subject} " in f" {name} "]
    if containing:
        return min(containing, key=lambda item: item[0])[1]
    return _closest_spelling(subject, candidates)


def _closest_spelling(subject: str, candidates: list[tuple[Entry, str, frozenset[str], int]]) -> Entry | None:
    """The first entry whose name is the most similar to ``subject`` (difflib ratio), if at least
    :data:`MIN_NAME_SIMILARITY`. ``real_quick_ratio`` and ``quick_ratio`` are upper bounds of ``ratio``: a name
    whose bound is below the best so far cannot win, so its full comparison (most of the cost) is skipped; the
    result is the one of comparing every name."""
    best_ratio, best = MIN_NAME_SIMILARITY, None
    for entry, name, _words, _count in candidates:
        matcher = difflib.SequenceMatcher(None, subject, name)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio or (best is None and ratio >= best_ratio):
            best_ratio, best = ratio, entry
    return best


@lru_cache(maxsize=1)
def _sources(directory: Path = KNOWLEDGE_DIR) -> tuple[dict[str, str], ...]:
    return tuple(yaml.safe_load((directory / "sources.yml").read_text(encoding="utf-8"))["sources"])


def source_titles() -> dict[str, str]:
    """Seed file → short title of the document."""
    return {item["file"]: item["short"] for item in _sources()}


def source_titles_full() -> dict[str, str]:
    """Seed file → full title of the document."""
    return {item["file"]: item["title"] for item in _sources()}


def cite_lines(source: Source) -> str:
    return f"l. {source.start}" if source.start == source.end else f"l. {source.start}-{source.end}"


def cite(source: Source) -> str:
    """« source : actes du colloque … (2022), l. 2417-2423 »."""
    return f"source : {source_titles().get(source.file, source.file)}, {cite_lines(source)}"


def first_sentence(text: str, limit: int = 220) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def describe(entry: Entry) -> str:
    """A short answer about one entry, with its source."""
    if entry.kind == "figure":
        unit = f" {entry.get('unit')}" if entry.get("unit") else ""
        year = f" ({entry.get('year')})" if entry.get("year") else ""
        return f"**{entry.title}{unit}**{year} : {entry.text} ({cite(entry.source)})"
    return f"**{entry.title}** : {entry.text} ({cite(entry.source)})"


def list_line(entry: Entry, reason: str | None = None) -> str:
    why = f" {reason}" if reason else ""
    return f"- **{entry.title}** : {first_sentence(entry.text)}{why} ({cite(entry.source)})"


def sources_of(entries: Iterable[Entry]) -> list[str]:
    return [str(entry.source) for entry in entries]
