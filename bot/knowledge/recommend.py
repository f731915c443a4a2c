"""Recommending tools and examples for a finished diagnostic: by relevance, then kept diverse.

Each recommendable entry (not a reference) gets a relevance score
(:mod:`bot.knowledge.relevance`). The list is then built greedily: at each step the entry
with the best score once penalised for resembling those already chosen (a near-duplicate,
the same kind of tool, an alliance with the same members or the same issue). Every item
carries a reason of its own (:mod:`bot.knowledge.reasons`). « D'autres outils » pages
through the same list, so nothing is shown twice, and an entry shown as a tool is never
shown as an example.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.diagnostic.text import normalise
from bot.knowledge.model import Catalogue, Entry
from bot.knowledge.profile import UserProfile
from bot.knowledge.reasons import Labels, reason_for, stem
from bot.knowledge.relevance import EXAMPLE_WEIGHTS, TOOL_WEIGHTS, Relevance, assess

TOOLS_SHOWN = 3
EXAMPLES_SHOWN = 2
# What resembling an entry already chosen costs (in points of relevance).
NEAR_DUPLICATE_PENALTY = 4.0
SAME_KIND_PENALTY = 1.2
SHARED_MEMBER_PENALTY = 0.8
SAME_THEME_PENALTY = 0.4
TITLE_PREFIX_WORDS = 3
# A word of the user's found in more than this share of the entries is too common to quote in a reason.
COMMON_STEM_SHARE = 0.15

# entry id -> how close the entry is by meaning to the user's words (see SearchIndex.relatedness)
Related = Mapping[str, float]


@dataclass(frozen=True)
class Recommendation:
    entry: Entry
    score: float
    fits: Mapping[str, float]
    reason: str


@dataclass(frozen=True)
class _Likeness:
    """What resemblance compares, read once per entry."""

    title: str
    prefix: str
    tool_kind: str | None
    members: frozenset[str]
    themes: frozenset[str]

    @classmethod
    def of(cls, entry: Entry) -> _Likeness:
        title = normalise(entry.title)
        return cls(title, " ".join(title.split()[:TITLE_PREFIX_WORDS]),
                   str(entry.get("kind")) if entry.kind == "tool" else None,
                   frozenset(normalise(member) for member in entry.get("members") or []),
                   frozenset(entry.tags.get("themes", ())) if entry.kind == "example" else frozenset())


def resemblance(candidate: _Likeness, chosen: _Likeness) -> float:
    """Penalty for showing ``candidate`` after ``chosen``: near-duplicates first, then lesser likeness."""
    shared = len(candidate.members & chosen.members)
    if candidate.prefix == chosen.prefix or candidate.title == chosen.title or shared >= 2:
        return NEAR_DUPLICATE_PENALTY
    penalty = SHARED_MEMBER_PENALTY * shared
    if candidate.tool_kind is not None and candidate.tool_kind == chosen.tool_kind:
        penalty += SAME_KIND_PENALTY
    if candidate.themes & chosen.themes:
        penalty += SAME_THEME_PENALTY
    return penalty


def diversify(assessed: Sequence[Relevance]) -> list[Relevance]:
    """Every entry, ordered greedily by score minus its likeness to the entries just before it."""
    remaining = sorted(assessed, key=lambda item: -item.score)  # a stable start: the file order breaks ties
    likeness = {id(item): _Likeness.of(item.entry) for item in assessed}
    ordered: list[Relevance] = []
    while remaining:
        recent = [likeness[id(before)] for before in ordered[-TOOLS_SHOWN:]]

        def adjusted(item: Relevance, recent: list[_Likeness] = recent) -> float:
            return item.score - sum(resemblance(likeness[id(item)], before) for before in recent)

        best = max(remaining, key=adjusted)
        ordered.append(best)
        remaining.remove(best)
    return ordered


def rank(entries: Sequence[Entry], profile: UserProfile, labels: Labels, related: Related | None = None,
         exclude: Callable[[Entry], bool] = lambda _entry: False) -> list[Recommendation]:
    """The recommendable ``entries`` (tools or examples), best first, each with its reason."""
    candidates = [entry for entry in entries if entry.recommendable and not exclude(entry)]
    if not candidates:
        return []
    weights = TOOL_WEIGHTS if candidates[0].kind == "tool" else EXAMPLE_WEIGHTS
    ordered = diversify(assess(candidates, profile, related or {}, weights))
    said: set[str] = set()
    common = common_stems(candidates)
    return [Recommendation(item.entry, item.score, item.fits, reason_for(item, profile, labels, said, common))
            for item in ordered]


def common_stems(entries: Sequence[Entry], share: float = COMMON_STEM_SHARE) -> frozenset[str]:
    """Stems found in more than ``share`` of ``entries``: words that say nothing about one entry (computed once)."""
    key = (tuple(entry.id for entry in entries), share)
    if key not in _COMMON_STEMS:
        _COMMON_STEMS[key] = _count_common_stems(entries, share)
    return _COMMON_STEMS[key]


_COMMON_STEMS: dict[tuple[tuple[str, ...], float], frozenset[str]] = {}


def _count_common_stems(entries: Sequence[Entry], share: float) -> frozenset[str]:
    counts: dict[str, int] = {}
    for entry in entries:
        for word_stem in {stem(word) for word in normalise(f"{entry.title} {entry.text}").split()}:
            counts[word_stem] = counts.get(word_stem, 0) + 1
    return frozenset(word_stem for word_stem, count in counts.items() if count > share * len(entries))


@dataclass(frozen=True)
class Picks:
    """The whole ranked lists; the result shows the head of each, « d'autres … » the rest."""

    tools: list[Recommendation]
    examples: list[Recommendation]


def recommend(catalogue: Catalogue, profile: UserProfile, labels: Labels, related_tools: Related | None = None,
              related_examples: Related | None = None) -> Picks:
    """Tools, then examples that are not among the tools shown (by id or by name)."""
    tools = rank(catalogue.of("tool"), profile, labels, related_tools)
    shown = {normalise(item.entry.title) for item in tools[:TOOLS_SHOWN]} | {item.entry.id for item in tools[:TOOLS_SHOWN]}
    examples = rank(catalogue.of("example"), profile, labels, related_examples,
                    exclude=lambda entry: entry.id in shown or normalise(entry.title) in shown)
    return Picks(tools, examples)


def page(recommendations: Sequence[Recommendation], offset: int, size: int) -> list[Recommendation]:
    """The ``size`` recommendations after the first ``offset`` (empty when all were shown)."""
    return list(recommendations[max(offset, 0): max(offset, 0) + size])
