"""The result of a finished questionnaire: scoring, storage and the result message."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channel import chart_url, progress_message, report_url
from actions.context import LAST_SOURCES_SLOT, LISTING_SLOT, answers_from, catalogue, in_thread, questionnaire
from bot.diagnostic.questionnaire import Questionnaire
from bot.diagnostic.scoring import DiagnosticResult, compute_result
from bot.knowledge.model import Catalogue
from bot.knowledge.recommend import Profile, Recommendation, rank
from bot.store import diagnostics

RESULT_BUTTONS = [
    {"title": "D'autres exemples", "payload": "/more_examples"},
    {"title": "D'autres outils", "payload": "/more_tools"},
    {"title": "Découvrir les autres portes", "payload": "/ask_doors"},
    {"title": "Recommencer", "payload": "/restart_diagnostic"},
]
TOOLS_SHOWN = 3
EXAMPLES_SHOWN = 2


def recommended(survey: Questionnaire, knowledge: Catalogue, profile: Profile) -> dict[str, list[Recommendation]]:
    """The tools and examples of the result, best first."""
    return {
        "tools": rank(survey, knowledge.of("tool"), profile)[:TOOLS_SHOWN],
        "examples": rank(survey, knowledge.of("example"), profile)[:EXAMPLES_SHOWN],
    }


def as_json(items: list[Recommendation]) -> list[dict[str, Any]]:
    return [{"id": item.entry.id, "name": item.entry.title, "url": item.entry.get("url"), "reason": item.reason,
             "source": str(item.entry.source)} for item in items]


def result_message(survey: Questionnaire, result: DiagnosticResult,
                   picks: dict[str, list[Recommendation]] | None = None) -> str:
    """The result in a few short lines: door and reasons, runner-up, level, what to work on."""
    door = survey.door(result.door)
    level = survey.level(result.level)
    weakest = survey.dimension(result.weakest_dimension)
    lines = [f"Votre porte d'entrée recommandée : **{door.label}**."]
    if result.reasons:
        lines.append("Pourquoi : " + " ; ".join(result.reasons) + ".")
    lines.append(f"À explorer ensuite : {survey.door(result.runner_up).label}.")
    lines.append(f"Votre niveau de maturité : **{level.label}** ({result.maturity} %). {level.meaning}")
    lines.append(
        f"Point à travailler en priorité : {weakest.label} ({result.dimensions[weakest.id]} %)."
    )
    if result.unanswered:
        lines.append(f"({len(result.unanswered)} question(s) sans réponse : le résultat en tient compte.)")
    for key, title in (("tools", "Trois outils pour commencer"), ("examples", "Deux exemples qui peuvent vous inspirer")):
        if picks and picks[key]:
            lines.append(f"{title} :")
            lines += [f"- **{item.entry.title}** — {item.reason}" for item in picks[key]]
    return "\n".join(lines)


class ShowResult(Action):
    """Scores the answers, stores the diagnostic and shows the recommendation."""

    def name(self) -> str:
        return "action_show_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        survey = questionnaire()
        answers = answers_from(tracker)
        result = compute_result(survey, answers)
        profile = Profile.from_result(result.to_dict(), answers)
        picks = recommended(survey, catalogue(), profile)
        stored = {**result.to_dict(), "tools": as_json(picks["tools"]), "examples": as_json(picks["examples"])}
        await in_thread(diagnostics.record_result, tracker.sender_id, answers, stored)
        dispatcher.utter_message(json_message=progress_message(None))
        dispatcher.utter_message(text=result_message(survey, result, picks))
        dispatcher.utter_message(image=chart_url(tracker.sender_id))
        dispatcher.utter_message(
            response="utter_report_link", report_url=report_url(tracker.sender_id), buttons=RESULT_BUTTONS
        )
        # « D'autres exemples / outils » continue these rankings where the result stopped.
        listings = {
            "example": {"kind": "example", "profile": asdict(profile), "offset": EXAMPLES_SHOWN},
            "tool": {"kind": "tool", "profile": asdict(profile), "offset": TOOLS_SHOWN},
        }
        sources = [str(item.entry.source) for items in picks.values() for item in items]
        return [SlotSet(LISTING_SLOT, listings), SlotSet(LAST_SOURCES_SLOT, sources)]
