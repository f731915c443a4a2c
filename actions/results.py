"""The result of a finished questionnaire: scoring, storage and the result message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import answers_from, in_thread, questionnaire
from bot import diagnostics
from bot.questionnaire import Questionnaire
from bot.scoring import DiagnosticResult, compute_result

RESULT_BUTTONS = [
    {"title": "Découvrir les autres portes", "payload": "/ask_doors"},
    {"title": "Les niveaux de maturité", "payload": "/ask_levels"},
    {"title": "Recommencer", "payload": "/restart_diagnostic"},
]


def result_message(survey: Questionnaire, result: DiagnosticResult) -> str:
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
    return "\n".join(lines)


class ShowResult(Action):
    """Scores the answers, stores the diagnostic and shows the recommendation."""

    def name(self) -> str:
        return "action_show_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        survey = questionnaire()
        answers = answers_from(tracker)
        result = compute_result(survey, answers)
        await in_thread(diagnostics.record_result, tracker.sender_id, answers, result.to_dict())
        dispatcher.utter_message(text=result_message(survey, result), buttons=RESULT_BUTTONS)
        return []
