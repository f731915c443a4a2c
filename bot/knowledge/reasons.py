"""« Pourquoi pour vous » : one sentence per recommended item, linking its own facts to the user's answers.

The sentence starts from what the item is (a guide that helps to measure effects, an alliance
of named members in a named place) and ends with the one or two criteria that weighed most in
its score for this user (their weakest dimension, their issue, their kind of actor, the words
they typed…). Two items of one result therefore never read the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.diagnostic.questionnaire import Questionnaire
from bot.diagnostic.text import normalise
from bot.knowledge.profile import UserProfile
from bot.knowledge.relevance import EXAMPLE_WEIGHTS, TOOL_WEIGHTS, Relevance

TOOL_SUBJECT = {
    "toolbox": "Cette boîte à outils", "guide": "Ce guide", "kit": "Ce kit", "mooc": "Ce MOOC",
    "training": "Cette formation", "study": "Cette étude", "report": "Ce rapport", "platform": "Cette plateforme",
    "fund": "Ce financement", "charter": "Cette charte", "programme": "Ce programme",
    "observatory": "Cet observatoire", "method": "Cette méthode",
}
DIMENSION_ACTION = {
    "experience": "aide à passer à l'action avec des partenaires",
    "organisation": "aide à organiser un partenariat (accords, gouvernance, vision commune)",
    "evaluation": "aide à mesurer les effets d'un partenariat",
    "moyens": "aide à réunir des moyens (financement, formation, accompagnement)",
}
ACTOR_PLURAL = {
    "association": "associations", "entreprise": "entreprises", "collectivite": "collectivités",
    "fondation": "fondations", "accompagnement": "structures d'accompagnement",
}
# The user's issue as it reads after « porte sur ».
THEME_PHRASE = {
    "emploi": "l'emploi et l'insertion", "jeunesse": "l'éducation et la jeunesse",
    "sante": "la santé et le bien vieillir", "lien_social": "le lien social et les solidarités",
    "environnement": "la transition écologique", "logement": "le logement",
    "economie": "le développement économique local",
}
# Words of five letters or more that say nothing of a subject (never quoted back to the user).
FUNCTION_WORDS = frozenset(normalise(word)[:6] for word in (
    "contre", "notre", "votre", "nôtres", "avons", "sommes", "comme", "faire", "entre", "aussi", "leurs",
    "cette", "depuis", "encore", "toutes", "autres", "quand", "parce", "alors", "avant", "après", "pendant",
    "beaucoup", "personnes", "moins", "plutôt", "vraiment", "surtout", "toujours", "chose", "choses",
))
MAX_MEMBERS_NAMED = 3
MAX_LINKS = 2
STRONG_FIT = 0.99
WORDS_FIT = 0.7
STEM = 6
MIN_WORD = 5


@dataclass(frozen=True)
class Labels:
    """The questionnaire's words for the ids a reason names."""

    doors: Mapping[str, str]
    levels: Mapping[str, str]
    dimensions: Mapping[str, str]
    themes: Mapping[str, str]
    scales: Mapping[str, str]
    partners: Mapping[str, str]

    @classmethod
    def from_questionnaire(cls, survey: Questionnaire) -> Labels:
        def summaries(question_id: str) -> dict[str, str]:
            return {option.id: option.summary for option in survey.question(question_id).options}

        return cls(
            doors={door.id: door.label for door in survey.doors},
            levels={level.id: level.label for level in survey.levels},
            dimensions={dimension.id: dimension.label for dimension in survey.dimensions},
            themes=summaries("theme"), scales=summaries("scale"), partners=summaries("partners_wanted"),
        )


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]


def stem(word: str) -> str:
    return normalise(word)[:STEM]


def shared_word(words: tuple[str, ...], text: str, common: frozenset[str] = frozenset()) -> str | None:
    """A word the user typed that the entry's text also uses (compared on their first letters), leaving
    out the ``common`` stems that too many entries share to mean anything (« personnes », « contre »)."""
    stems = {stem(word) for word in normalise(text).split() if len(word) >= MIN_WORD}
    for typed in words:
        for word in re.findall(r"\w+", typed):
            if (len(normalise(word)) >= MIN_WORD and stem(word) in stems and stem(word) not in common
                    and stem(word) not in FUNCTION_WORDS):
                return word
    return None


def _links(item: Relevance, profile: UserProfile, labels: Labels, said: set[str], common: frozenset[str]) -> list[str]:
    """The user-side half of the sentence: the strongest criteria, those not yet said for another item first."""
    entry, fits = item.entry, item.fits
    tool = entry.kind == "tool"
    pronoun = "il" if tool and entry.get("kind") not in ("toolbox", "training", "platform", "charter", "study",
                                                         "method") else "elle"
    weights = TOOL_WEIGHTS if tool else EXAMPLE_WEIGHTS
    phrases: dict[str, str] = {}
    needs = profile.dimensions_by_need
    if fits["dimension"] >= STRONG_FIT and needs:
        percent = profile.dimension_percent.get(needs[0])
        figure = f", {percent} %" if percent is not None else ""
        phrases["dimension"] = f"c'est votre point à travailler en priorité ({labels.dimensions[needs[0]]}{figure})"
    elif fits["dimension"] > 0 and len(needs) > 1:
        phrases["dimension"] = f"c'est votre deuxième point à renforcer ({labels.dimensions[needs[1]]})"
    if fits["theme"] >= STRONG_FIT and profile.theme:
        theme = THEME_PHRASE.get(profile.theme, labels.themes[profile.theme])
        phrases["theme"] = f"{pronoun} porte sur {theme}, votre enjeu"
    word = shared_word(profile.words, f"{entry.title} {entry.text}", common) if fits["words"] >= WORDS_FIT else None
    if word:
        phrases["words"] = f"{pronoun} rejoint ce que vous avez écrit (« {word} »)"
    elif fits["words"] >= WORDS_FIT and profile.words:
        phrases["words"] = f"{pronoun} est proche de ce que vous nous avez dit de votre projet"
    if fits["actor"] >= STRONG_FIT and profile.actor_type in ACTOR_PLURAL:
        phrases["actor"] = (f"{pronoun} s'adresse aux {ACTOR_PLURAL[profile.actor_type]}" if tool
                            else f"on y trouve des {ACTOR_PLURAL[profile.actor_type]} comme vous")
    if fits["partners"] >= STRONG_FIT and profile.partners_wanted in labels.partners:
        phrases["partners"] = f"{pronoun} associe les partenaires que vous cherchez ({labels.partners[profile.partners_wanted]})"
    if fits["door"] >= 0.6:
        phrases["door"] = f"{pronoun} sert la porte « {labels.doors[profile.door]} »"
    if fits["level"] >= STRONG_FIT and profile.level in labels.levels:
        phrases["level"] = f"{pronoun} convient au niveau {labels.levels[profile.level]}"
    if fits["scale"] >= STRONG_FIT and profile.scale:
        phrases["scale"] = f"{pronoun} agit à votre échelle ({labels.scales[profile.scale]})"
    ranked = sorted(phrases, key=lambda name: (name in said, -weights[name] * fits[name]))[:MAX_LINKS]
    said.update(ranked)
    return [phrases[name] for name in ranked]


def _tool_facts(item: Relevance, profile: UserProfile) -> str:
    entry = item.entry
    subject = TOOL_SUBJECT.get(str(entry.get("kind")), "Cet outil")
    strengthens = entry.tags.get("dimensions", ())
    needs = [dimension for dimension in profile.dimensions_by_need if dimension in strengthens]
    dimension = needs[0] if needs else (strengthens[0] if strengthens else None)
    action = DIMENSION_ACTION.get(dimension or "", "aide à faire alliance")
    publisher = f", de {entry.get('publisher')}," if entry.get("publisher") else ""
    return f"{subject}{publisher} {action}"


def _example_facts(item: Relevance) -> str:
    entry = item.entry
    members = [str(member) for member in entry.get("members") or []][:MAX_MEMBERS_NAMED]
    place = entry.get("territory") or next(iter(entry.get("places") or []), None)
    if members:
        return f"Elle réunit {_join(members)}" + (f" ({place})" if place else "")
    facts = "Une initiative" + (f" menée à {place}" if place else "")
    year = entry.get("year")
    return facts + (f" depuis {year}" if year else "")


def reason_for(item: Relevance, profile: UserProfile, labels: Labels, said: set[str] | None = None,
               common: frozenset[str] = frozenset()) -> str:
    """One sentence: what the item is, then why it fits this user.

    ``said``: the criteria already given as a reason to earlier items of the same list (updated), so that
    the next item leads with another one when it can; ``common``: stems too frequent to quote.
    """
    facts = _tool_facts(item, profile) if item.entry.kind == "tool" else _example_facts(item)
    links = _links(item, profile, labels, set() if said is None else said, common)
    if not links:
        return f"{facts} : une piste utile quel que soit votre profil."
    return f"{facts} : {_join(links)}."
