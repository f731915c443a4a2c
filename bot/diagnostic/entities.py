"""The profile facts a message states: entities (DIET's and the gazetteer's), head counts, negations.

A word means different things depending on the question: « la mairie » is an actor type when asked
who you are, a partner type when asked with whom you work; :data:`ENTITY_EQUIVALENTS` translates an
entity to the question asked. A value the user rejects (« pas vraiment un réseau, plutôt une asso »,
« on n'est pas une entreprise ») is left out; when two values remain for one question, the one the
user prefers (« plutôt », « en fait », « mais ») wins, and if none is preferred the caller asks.
Staff counted in « agents » are those of a public body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.diagnostic.gazetteer import gazetteer
from bot.diagnostic.text import normalise

PARTNER_ENTITY = "partner_type"
# The same words name an actor and a partner: (entity, value) read for the asked question.
# Read in this order, after the words of the question's own type (so « une asso régionale » stays an association).
ENTITY_EQUIVALENTS: dict[str, dict[tuple[str, str], str]] = {
    "actor_type": {
        ("partner_type", "associations"): "association",
        ("partner_type", "publics"): "collectivite",
        ("partner_type", "entreprises"): "entreprise",
        ("scale", "departement"): "collectivite",  # « la comcom », « le département »
        ("scale", "region"): "collectivite",
    },
    "partners": {
        ("actor_type", "association"): "associations",
        ("actor_type", "collectivite"): "publics",
        ("actor_type", "entreprise"): "entreprises",
        ("actor_type", "fondation"): "entreprises",
        ("size", "tpe"): "entreprises",
        ("size", "pme"): "entreprises",
        ("size", "grande"): "entreprises",
        ("scale", "departement"): "publics",
        ("scale", "region"): "publics",
    },
}
ENTITY_EQUIVALENTS["partners_wanted"] = ENTITY_EQUIVALENTS["partners"]
# A size alone does not say what kind of actor one is: « une pme » is a company, « 80 agents » a public body,
# « 15 salariés » could be either. These are guesses to be confirmed, never stored silently.
SIZE_SUGGESTS_COMPANY = frozenset({"tpe", "pme", "grande"})

_NUMBER = r"(\d[\d .]*)"
_STAFF_WORDS = r"(?:salarie|employe|personne|collaborateur|etp|agent|permanent)"
_HEADCOUNT = re.compile(rf"(?:(moins de|plus de|au moins)\s+)?{_NUMBER}\s*{_STAFF_WORDS}")
_BARE_COUNT = re.compile(rf"^(?:(moins de|plus de|au moins)\s+)?{_NUMBER}$")
_ALONE_ON_STAFF = re.compile(r"\b(seule?|unique) (?:salarie|employe|permanent)")
_PUBLIC_STAFF = re.compile(r"\b(?:agents?|fonctionnaires?|elus?|titulaires? de la fonction publique)\b")
SIZE_BUCKETS = ((0, "benevole"), (1, "tpe"), (10, "pme"), (250, "grande"))
# Words that count people rather than name a kind of organisation (« une vingtaine », « quelques salariés »).
_COUNT_WORDS = re.compile(
    r"\b(?:un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante|"
    r"soixante|cent|cents|mille|dizaines?|douzaines?|quinzaines?|vingtaines?|trentaines?|quarantaines?|"
    r"cinquantaines?|soixantaines?|centaines?|milliers?|quelques|plusieurs|personne|aucun|aucune|zero)\b"
)
# « 1,5 ETP » is one and a half, « 1.200 salariés » is twelve hundred.
_DECIMAL = re.compile(r"(\d+)[,.](\d+)")
# Words that reject what follows them (within NEGATION_REACH words), and words that prefer it.
NEGATIONS = frozenset({"pas", "non", "ni", "jamais", "plus"})
NEGATION_REACH = 3
# Gazetteer mentions come after DIET's in the order of a message (their positions are in the normalised text).
GAZETTEER_OFFSET = 10_000
PREFERENCES = frozenset({"plutot", "surtout", "fait", "mais", "principalement", "essentiellement", "vraiment"})


def size_from_headcount(text: str, bare_number_allowed: bool = False) -> str | None:
    """« on est 15 salariés » → ``pme``, « moins de 10 salariés » → ``tpe``; None without a head-count.

    A number alone (« plus de 250 ») is read only when the size question is asked.
    """
    typed = normalise(_DECIMAL.sub(lambda match: match.group(1) + (match.group(2) if len(match.group(2)) == 3 else ""),
                                   text))
    if _ALONE_ON_STAFF.search(typed):
        return "tpe"
    match = _HEADCOUNT.search(typed) or (_BARE_COUNT.match(typed) if bare_number_allowed else None)
    if not match:
        return None
    qualifier, digits = match.group(1), re.sub(r"\D", "", match.group(2))
    if not digits:
        return None
    count = int(digits) + {"moins de": -1, "plus de": 1}.get(qualifier or "", 0)
    return next(option for threshold, option in reversed(SIZE_BUCKETS) if count >= threshold)


def speaks_of_public_staff(text: str) -> bool:
    """« on est 80 agents », « nos élus »: the staff of a public body."""
    return bool(_PUBLIC_STAFF.search(normalise(text)))


@dataclass(frozen=True)
class Mention:
    """One entity value found in a message, and how the words before it qualify it."""

    kind: str
    value: str
    position: int
    surface: str = ""
    negated: bool = False
    preferred: bool = False

    @property
    def is_count(self) -> bool:
        """True for a head count (« 15 salariés », « une vingtaine »), not a word (« une pme »)."""
        return any(char.isdigit() for char in self.surface) or bool(_COUNT_WORDS.search(normalise(self.surface)))


def _qualifiers(before: str) -> tuple[bool, bool]:
    """(negated, preferred) from the normalised words just before a mention."""
    words = before.split()[-NEGATION_REACH:]
    return any(word in NEGATIONS for word in words), any(word in PREFERENCES for word in words)


def mentions(parse: Mapping[str, Any]) -> list[Mention]:
    """Every entity of the message, DIET's then the gazetteer's (one scan), in the order they appear."""
    text = parse.get("text") or ""
    found: list[Mention] = []
    seen: set[tuple[str, str]] = set()
    for entity in sorted(parse.get("entities") or [], key=lambda item: item.get("start", 0)):
        kind, value, start = entity.get("entity"), entity.get("value"), int(entity.get("start") or 0)
        if isinstance(kind, str) and isinstance(value, str):
            negated, preferred = _qualifiers(normalise(text[:start]))
            surface = text[start:int(entity.get("end") or start)]
            found.append(Mention(kind, value, start, surface, negated, preferred))
            seen.add((kind, value))
    padded = f" {normalise(text)} "
    for kind, value, position, surface in gazetteer().find(text):
        if (kind, value) not in seen:
            negated, preferred = _qualifiers(padded[:position])
            found.append(Mention(kind, value, GAZETTEER_OFFSET + position, surface, negated, preferred))
            seen.add((kind, value))
    return found


def values_of(found: Sequence[Mention], kind: str, *, diet_only: bool = False) -> list[Mention]:
    """The mentions of ``kind`` the user does not reject (DIET's only for passing remarks)."""
    return [mention for mention in found if mention.kind == kind and not mention.negated
            and not (diet_only and mention.position >= GAZETTEER_OFFSET)]


def for_question(found: Sequence[Mention], question_id: str, entity_type: str) -> list[Mention]:
    """Values of ``entity_type``, plus the other entities that mean the same for this question, translated."""
    values = values_of(found, entity_type)
    names = {mention.value for mention in values}
    for (other_type, other_value), value in ENTITY_EQUIVALENTS.get(question_id, {}).items():
        for mention in values_of(found, other_type):
            # « une pme » is a company among the partners; « une dizaine » counts partners of any kind.
            if other_type == "size" and mention.is_count:
                continue
            if mention.value == other_value and value not in names:
                values.append(Mention(entity_type, value, mention.position, mention.surface, False, mention.preferred))
                names.add(value)
    return values


def choose(values: Sequence[Mention]) -> tuple[str | None, tuple[str, ...]]:
    """(the value, or None) and the candidates to ask about when the message names several without preferring one."""
    distinct = list(dict.fromkeys(mention.value for mention in values))
    if len(distinct) <= 1:
        return (distinct[0] if distinct else None), ()
    preferred = list(dict.fromkeys(mention.value for mention in values if mention.preferred))
    if len(preferred) == 1:
        return preferred[0], ()
    return None, tuple(distinct)
