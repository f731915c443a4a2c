"""The result in the chat: a short sequence of messages rather than one wall of text.

1. the recommended door and the reasons that weighed most, and the door to explore next;
2. the maturity level, what it means, the point to work on, the change since the previous
   diagnostic (the chart of the four dimensions follows as an image);
3. the next steps, each with the tool that serves it, and whom to turn to;
4. three tools, then two examples: as cards for the chat widget (a ``custom`` payload that it
   draws with text nodes only), as readable text for any other client;
5. the link to the report and the buttons.

Each message is a dict of what Rasa's dispatcher takes (``text``, ``buttons``, ``image``,
``json_message``). Plain Python: the action only sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.diagnostic.questionnaire import Questionnaire
from bot.diagnostic.text import french_date
from bot.knowledge.lookup import cite
from bot.knowledge.recommend import Recommendation
from bot.result.build import FullResult
from bot.result.progress import Progress

FIRST_MESSAGE_MAX = 600
RESULT_BUTTONS = [
    {"title": "Voir le rapport complet", "payload": "/show_report"},
    {"title": "D'autres exemples", "payload": "/more_examples"},
    {"title": "D'autres outils", "payload": "/more_tools"},
    {"title": "Découvrir les autres portes", "payload": "/ask_doors"},
    {"title": "Recommencer", "payload": "/restart_diagnostic"},
]
TOOLS_TITLE = "Trois outils pour commencer"
EXAMPLES_TITLE = "Deux exemples qui peuvent vous inspirer"
WHY = "Pourquoi pour vous"


def door_message(survey: Questionnaire, full: FullResult) -> str:
    result = full.result
    door = survey.door(result.door)
    lines = [f"Votre porte d'entrée recommandée : **{door.label}**. {door.meaning[:1].upper()}{door.meaning[1:]}."]
    if result.reasons:
        lines.append("Pourquoi : " + " ; ".join(result.reasons) + ".")
    lines.append(f"À explorer ensuite : {survey.door(result.runner_up).label}.")
    text = "\n".join(lines)
    return text if len(text) <= FIRST_MESSAGE_MAX else text[: FIRST_MESSAGE_MAX - 1].rstrip() + "…"


def progress_line(survey: Questionnaire, progress: Progress) -> str:
    """« Depuis votre diagnostic du 3 décembre 2026 : niveau Découverte → Habitude ; Expérience 33 → 50 % … »."""
    since = french_date(progress.previous_date)
    head = f"Depuis votre diagnostic du {since}" if since else "Depuis votre précédent diagnostic"
    try:
        before, after = survey.level(progress.level.before).label, survey.level(progress.level.after).label
    except KeyError:
        before, after = str(progress.level.before), str(progress.level.after)
    level = f"niveau {before} → {after}" if before != after else f"niveau {after}, inchangé"
    figures = [f"{change.label} {change.before} → {change.after} %" for change in progress.dimensions
               if change.before is not None and change.after is not None]
    return f"{head} : {level} ; " + ", ".join(figures) + "." if figures else f"{head} : {level}."


def level_message(survey: Questionnaire, full: FullResult) -> str:
    result = full.result
    level = survey.level(result.level)
    weakest = survey.dimension(result.weakest_dimension)
    lines = [f"Votre niveau de maturité : **{level.label}** ({result.maturity} %). {level.meaning}",
             f"Point à travailler en priorité : {weakest.label} ({result.dimensions[weakest.id]} %)."]
    if result.unanswered:
        count = len(result.unanswered)
        lines.append(f"({count} question{'s' if count > 1 else ''} sans réponse : le score en tient compte.)")
    if full.progress is not None:
        lines.append(progress_line(survey, full.progress))
    return "\n".join(lines)


def _named(name: str, url: object) -> str:
    return f"[{name}]({url})" if isinstance(url, str) and url.startswith(("http://", "https://")) else f"« {name} »"


def plan_message(full: FullResult) -> str | None:
    if not full.plan.steps and not full.plan.support:
        return None
    lines = ["**Vos prochaines étapes**"]
    for number, item in enumerate(full.plan.steps, start=1):
        tool = f" Avec {_named(item.tool.title, item.tool.get('url'))}." if item.tool else ""
        lines.append(f"{number}. {item.step.title}.{tool}")
    if full.plan.support:
        names = [_named(entry.title, entry.get("url")) for entry in full.plan.support]
        lines.append("**Vers qui vous tourner** : " + " ou ".join(names) + ".")
    return "\n".join(lines)


def card(item: Recommendation) -> dict[str, Any]:
    """What the widget draws for one tool or example (plain strings; it renders them as text)."""
    entry = item.entry
    url = entry.get("url")
    return {"id": entry.id, "kind": entry.kind, "name": entry.title,
            "description": entry.get("summary") or entry.text, "reason": item.reason,
            "url": url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
            "source": cite(entry.source)}


def cards_text(title: str, items: list[Recommendation]) -> str:
    """The same cards as text, for clients that do not draw cards."""
    lines = [f"**{title}**"]
    for item in items:
        entry = item.entry
        lines.append(f"- {_named(entry.title, entry.get('url'))} : {entry.get('summary') or entry.text}")
        lines.append(f"  {WHY} : {item.reason} ({cite(entry.source)})")
    return "\n".join(lines)


def result_messages(survey: Questionnaire, full: FullResult, *, cards: bool, chart_url: str,
                    report_url: str) -> list[dict[str, Any]]:
    """The whole sequence; ``cards``: the client draws cards (the widget) rather than text."""
    messages: list[dict[str, Any]] = [{"text": door_message(survey, full)},
                                      {"text": level_message(survey, full)}, {"image": chart_url}]
    plan = plan_message(full)
    if plan:
        messages.append({"text": plan})
    for title, items in ((TOOLS_TITLE, full.tools), (EXAMPLES_TITLE, full.examples)):
        if not items:
            continue
        if cards:
            messages.append({"json_message": {"cards": {"title": title, "items": [card(item) for item in items]}}})
        else:
            messages.append({"text": cards_text(title, items)})
    messages.append({"text": f"Votre rapport complet, à imprimer ou à transmettre : [voir le rapport]({report_url}). "
                             "Que souhaitez-vous faire maintenant ?", "buttons": RESULT_BUTTONS})
    return messages


def wants_cards(metadata: Mapping[str, Any] | None) -> bool:
    """True when the message came from the chat widget, which says so in its metadata."""
    return isinstance(metadata, Mapping) and metadata.get("client") == "widget"
