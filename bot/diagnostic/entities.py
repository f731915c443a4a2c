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
# When the size is asked: « entre 10 et 250 », « on est 2 dans la boîte ».
_RANGE = re.compile(r"\bentre (\d+) et (\d+)\b")
_WE_ARE = re.compile(r"\b(?:(moins de|plus de|au moins)\s+)?(?:on est|on n est que|nous sommes) (\d+)\b(?! benevole)")
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
    if bare_number_allowed:
        between = _RANGE.search(typed)
        if between:
            low, high = _bucket(int(between.group(1))), _bucket(max(int(between.group(2)) - 1, 0))
            return low if low == high else None
    match = _HEADCOUNT.search(typed) or (
        (_BARE_COUNT.match(typed) or _WE_ARE.search(typed)) if bare_number_allowed else None)
    if not match:
        return None
    qualifier, digits = match.group(1), re.sub(r"\D", "", match.group(2))
    if not digits:
        return None
    return _bucket(int(digits) + {"moins de": -1, "plus de": 1}.get(qualifier or "", 0))


def _bucket(count: int) -> str:
    return next(option for threshold, option in reversed(SIZE_BUCKETS) if count >= threshold)


# How people speak of themselves (« je suis », « on est », « notre structure »).
_SELF = re.compile(
    r"\b(?:je suis|j suis|jsuis|je travaille|je bosse|je represente|on est|on a|nous sommes|nous avons|"
    r"notre|nos|chez nous|ma structure|mon asso\w*|mon entreprise|ma boite|ma collectivite|ma commune|"
    r"je m occupe|je gere|je dirige|je preside)\b"
)


def speaks_of_oneself(text: str) -> bool:
    return bool(_SELF.search(normalise(text)))


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
    #: where it starts in " " + normalise(text) + " " (DIET's and the gazetteer's mentions compare there)
    at: int = 0

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
            before = normalise(text[:start])
            negated, preferred = _qualifiers(before)
            surface = text[start:int(entity.get("end") or start)]
            found.append(Mention(kind, value, start, surface, negated, preferred, len(before) + 1 if before else 0))
            seen.add((kind, value))
    padded = f" {normalise(text)} "
    for kind, value, position, surface in gazetteer().find(text):
        if (kind, value) not in seen:
            negated, preferred = _qualifiers(padded[:position])
            found.append(Mention(kind, value, GAZETTEER_OFFSET + position, surface, negated, preferred, position))
            seen.add((kind, value))
    return found


def values_of(found: Sequence[Mention], kind: str, *, diet_only: bool = False) -> list[Mention]:
    """The mentions of ``kind`` the user does not reject (DIET's only for passing remarks)."""
    return [mention for mention in found if mention.kind == kind and not mention.negated
            and not (diet_only and mention.position >= GAZETTEER_OFFSET)]


def for_question(found: Sequence[Mention], question_id: str, entity_type: str) -> list[Mention]:
    """Values of ``entity_type``, plus the other entities that mean the same for this question, translated."""
    values = values_of(found, entity_type)
    if question_id == "scale" and not values:
        values = scale_of_public_bodies(found)
    names = {mention.value for mention in values}
    for (other_type, other_value), value in ENTITY_EQUIVALENTS.get(question_id, {}).items():
        for mention in values_of(found, other_type):
            # « une pme » is a company among the partners; « une dizaine » counts partners of any kind.
            if other_type == "size" and mention.is_count:
                continue
            if mention.value == other_value and value not in names:
                values.append(Mention(entity_type, value, mention.position, mention.surface, False, mention.preferred,
                                      mention.at))
                names.add(value)
    return values


# What a public body's name says of its scale (« une communauté d'agglo » is an intercommunality).
SCALE_OF_PUBLIC_BODY = (
    (re.compile(r"\b(?:agglo\w*|comcom|communaute (?:de communes|urbaine|d agglomeration)|metropole|epci|interco\w*|"
                r"departement\w*|conseil departemental|cd|syndicat mixte|petr|pays)\b"), "departement"),
    (re.compile(r"\b(?:region\w*|conseil regional)\b"), "region"),
    (re.compile(r"\b(?:commune|mairie|ville|municipalite|ccas)\b"), "local"),
)


def scale_of_public_bodies(found: Sequence[Mention]) -> list[Mention]:
    """Scale mentions implied by the public bodies named (« une comcom » → an intercommunality)."""
    implied = []
    for mention in values_of(found, "actor_type"):
        if mention.value != "collectivite":
            continue
        surface = normalise(mention.surface)
        scale = next((value for pattern, value in SCALE_OF_PUBLIC_BODY if pattern.search(surface)), None)
        if scale:
            implied.append(Mention("scale", scale, mention.position, mention.surface, False, mention.preferred,
                                   mention.at))
    return implied


def choose(values: Sequence[Mention], text: str = "") -> tuple[str | None, tuple[str, ...]]:
    """(the value, or None) and the candidates to ask about when the message names several without preferring one.

    Two values joined (« une asso et une entreprise », « l'emploi ou le logement ») are a doubt; otherwise the
    second one only qualifies the first (« un réseau qui accompagne les assos », « le logement des jeunes »):
    the first is the answer.
    """
    distinct = list(dict.fromkeys(mention.value for mention in values))
    if len(distinct) <= 1:
        return (distinct[0] if distinct else None), ()
    preferred = list(dict.fromkeys(mention.value for mention in values if mention.preferred))
    if len(preferred) == 1:
        return preferred[0], ()
    first, second = _first_two(values)
    if first is not None and second is not None and text and second.at > first.at and not _joined(text, first, second):
        return first.value, ()
    return None, tuple(distinct)


def _first_two(values: Sequence[Mention]) -> tuple[Mention | None, Mention | None]:
    """The first mention and the first one of another value, in the order of the message."""
    ordered = sorted(values, key=lambda mention: mention.at)
    first = ordered[0] if ordered else None
    second = next((mention for mention in ordered if first and mention.value != first.value), None)
    return first, second


def _joined(text: str, first: Mention, second: Mention) -> bool:
    """True when the words between two mentions join them as equals (« et », « ou », a comma, a slash)."""
    padded = f" {normalise(text)} "
    end = first.at + len(normalise(first.surface)) + 1
    between = f" {padded[end:second.at].strip()} " if second.at > end else " "
    raw_joiner = re.search(r"[,/;+]", text[_raw_offset(text, first):_raw_offset(text, second)] or "")
    return bool(raw_joiner) or any(f" {word} " in between for word in ("et", "ou", "ni", "puis", "plus"))


def _raw_offset(text: str, mention: Mention) -> int:
    """Roughly where a mention starts in the raw text (for punctuation, which normalisation removes)."""
    if mention.position < GAZETTEER_OFFSET:
        return mention.position
    words = normalise(text)[: max(mention.at - 1, 0)].split()
    return len(" ".join(text.split()[: len(words)]))
