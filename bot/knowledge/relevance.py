"""How well one tool or example fits a user: a score over several criteria, each between 0 and 1.

The criteria (``FITS``) and their weights (``TOOL_WEIGHTS``, ``EXAMPLE_WEIGHTS``):

- ``door``: tagged with the recommended door (less for an entry that serves every door alike),
  or only with the runner-up door;
- ``level``: the nearest tagged level; a neighbouring level counts half;
- ``dimension`` (tools): strengthens the user's weakest dimension (the next weakest counts less);
- ``actor``, ``partners``: made for the user's kind of actor; an example that brings together the
  partners the user wishes for;
- ``theme``, ``scale``: the user's own issue and scale; a general entry sits in between, an entry
  about another issue scores nothing;
- ``practical`` (tools): a tool to act with (a toolbox, a method) before a document to read (a study);
- ``words``: how close the entry is, by meaning, to what the user typed and to their issue
  (``related``: a score per entry id from the search index), rescaled over the candidates.

An example about another issue than the user's is worth little whatever else it matches: that
is what the weights of ``theme`` and ``words`` for examples say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.knowledge.model import Entry
from bot.knowledge.profile import UserProfile

DOORS = ("territoire", "innovation", "salaries", "odd")
LEVELS = ("decouverte", "habitude", "aguerri", "moteur")
ACTOR_TYPES = ("association", "entreprise", "collectivite", "fondation", "accompagnement", "autre")
SCALES = ("local", "departement", "region", "national")
LEVEL_DISTANCE_FIT = (1.0, 0.5, 0.15, 0.0)
SCALE_DISTANCE_FIT = (1.0, 0.6, 0.2, 0.0)
# An entry that serves every door (actor type, level) alike is worth less to a given one than an entry made
# for it: a match on a tag carried by every entry says little. From 1 for one value to this for all of them.
LEAST_SPECIFIC = 0.6
RUNNER_UP_FIT = 0.35
SECOND_DIMENSION_FIT = 0.5
UNTAGGED_FIT = 0.5  # an entry that says nothing about a criterion: neither a match nor a mismatch
GENERAL_THEME_FIT = 0.4
# The partners a user wishes for (partners_wanted) as the actor types of an example's members.
WISHED_ACTORS = {"associations": {"association"}, "entreprises": {"entreprise"}, "publics": {"collectivite"}}

# How directly a kind of tool lets someone act: a toolbox, a kit or a method is used; a study or a report is
# read; a platform, a fund or a programme is somewhere in between.
PRACTICAL = {"toolbox": 1.0, "kit": 1.0, "method": 1.0, "mooc": 1.0, "training": 1.0, "charter": 1.0, "guide": 0.8,
             "platform": 0.5, "fund": 0.4, "programme": 0.4, "report": 0.2, "study": 0.2, "observatory": 0.2}

TOOL_WEIGHTS = {"door": 2.75, "level": 2.75, "dimension": 1.0, "actor": 2.4, "partners": 0.0, "theme": 0.9,
                "scale": 1.75, "words": 0.6, "practical": 0.6}
EXAMPLE_WEIGHTS = {"door": 3.0, "level": 1.0, "dimension": 0.0, "actor": 1.5, "partners": 0.5, "theme": 2.5,
                   "scale": 1.5, "words": 2.0, "practical": 0.0}
FITS = tuple(TOOL_WEIGHTS)


@dataclass(frozen=True)
class Relevance:
    """An entry's score and the fit of each criterion (what the reason is written from)."""

    entry: Entry
    score: float
    fits: Mapping[str, float]


def distance_fit(wanted: str | None, tagged: Sequence[str], order: Sequence[str], fits: Sequence[float]) -> float:
    positions = [order.index(value) for value in tagged if value in order]
    if wanted not in order or not positions:
        return UNTAGGED_FIT
    distance = min(abs(order.index(wanted) - position) for position in positions)
    return fits[min(distance, len(fits) - 1)]


def specificity(tagged: int, possible: int) -> float:
    """1 for an entry tagged with one value of a criterion, :data:`LEAST_SPECIFIC` for one tagged with all."""
    if possible <= 1 or tagged <= 1:
        return 1.0
    return 1.0 - (1.0 - LEAST_SPECIFIC) * (min(tagged, possible) - 1) / (possible - 1)


def door_fit(entry: Entry, profile: UserProfile) -> float:
    doors = entry.tags.get("doors", ())
    if profile.door in doors:
        return specificity(len(doors), len(DOORS))
    return RUNNER_UP_FIT if profile.runner_up in doors else 0.0


def dimension_fit(entry: Entry, profile: UserProfile) -> float:
    strengthens = entry.tags.get("dimensions", ())
    needs = profile.dimensions_by_need
    if needs and needs[0] in strengthens:
        return 1.0
    return SECOND_DIMENSION_FIT if len(needs) > 1 and needs[1] in strengthens else 0.0


def actor_fit(entry: Entry, profile: UserProfile) -> float:
    actors = entry.tags.get("actor_types", ())
    if profile.actor_type is None or not actors:
        return UNTAGGED_FIT
    return specificity(len(actors), len(ACTOR_TYPES)) if profile.actor_type in actors else 0.0


def partners_fit(entry: Entry, profile: UserProfile) -> float:
    actors = set(entry.tags.get("actor_types", ()))
    if profile.partners_wanted == "tous":
        return min(1.0, len(actors) / 3)
    wished = WISHED_ACTORS.get(profile.partners_wanted or "")
    if not wished:
        return UNTAGGED_FIT
    return 1.0 if wished & actors else 0.0


def theme_fit(entry: Entry, profile: UserProfile) -> float:
    themes = entry.tags.get("themes", ())
    if profile.theme in (None, "autre"):
        return UNTAGGED_FIT
    if not themes:
        return GENERAL_THEME_FIT
    return 1.0 if profile.theme in themes else 0.0


def words_fits(entries: Sequence[Entry], related: Mapping[str, float]) -> dict[str, float]:
    """``related`` rescaled to 0–1 over ``entries`` (the closest 1, the farthest 0); all 0 without scores."""
    values = [related[entry.id] for entry in entries if entry.id in related]
    if len(values) < 2 or max(values) == min(values):
        return {entry.id: 0.0 for entry in entries}
    low, high = min(values), max(values)
    return {entry.id: (related.get(entry.id, low) - low) / (high - low) for entry in entries}


def _uninformative(entries: Sequence[Entry], tag: str, value: str | None) -> bool:
    """True when no entry carries ``value`` for ``tag``: the tag cannot tell the entries apart for this user
    (no tool is tagged for « un autre type d'acteur »), so the criterion is left neutral."""
    return value is not None and not any(value in entry.tags.get(tag, ()) for entry in entries)


def assess(entries: Sequence[Entry], profile: UserProfile, related: Mapping[str, float],
           weights: Mapping[str, float]) -> list[Relevance]:
    """Every entry with its score, in the given order (ranking and diversity are in bot.knowledge.recommend)."""
    words = words_fits(entries, related)
    neutral = {name for name, tag, value in (("actor", "actor_types", profile.actor_type),
                                             ("theme", "themes", profile.theme), ("scale", "scale", profile.scale))
               if _uninformative(entries, tag, value)}
    assessed = []
    for entry in entries:
        fits = {
            "door": door_fit(entry, profile),
            "level": distance_fit(profile.level, entry.tags.get("levels", ()), LEVELS, LEVEL_DISTANCE_FIT)
            * specificity(len(entry.tags.get("levels", ())), len(LEVELS)),
            "dimension": dimension_fit(entry, profile),
            "actor": actor_fit(entry, profile),
            "partners": partners_fit(entry, profile),
            "theme": theme_fit(entry, profile),
            "scale": distance_fit(profile.scale, entry.tags.get("scale", ()), SCALES, SCALE_DISTANCE_FIT),
            "words": words[entry.id],
            "practical": PRACTICAL.get(str(entry.get("kind")), UNTAGGED_FIT) if entry.kind == "tool" else 0.0,
        }
        fits.update({name: UNTAGGED_FIT for name in neutral})
        assessed.append(Relevance(entry, sum(weights[name] * fits[name] for name in FITS), fits))
    return assessed
