"""Seeds for the owner's console: a scripted set of conversations, and a large random one for the bench.

The rows are written straight into the analytics tables and the diagnostics table, as the pipeline
(bot.analytics) and the action server would; inbox texts are already masked, as the pipeline stores them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.diagnostic.questionnaire import Questionnaire
from bot.store.analytics_tables import (
    ASKED,
    CLICKED,
    CORRECTED,
    INBOX_FALLBACK,
    INBOX_NOT_AN_ANSWER,
    NOT_UNDERSTOOD,
    TYPED,
    ConversationStat,
    Feedback,
    InboxMessage,
    KnowledgeGap,
    QuestionEvent,
    visitor_key,
)
from bot.store.tables import Base, Diagnostic, Workshop, WorkshopParticipant

#: Inside the scripted period (the console's dates are in Europe/Paris: midday is safe).
T0 = datetime(2026, 11, 2, 11, 0, tzinfo=timezone.utc)
PERIOD = ("2026-11-02", "2026-11-15")
#: Before the period: must never be counted.
BEFORE = datetime(2026, 10, 20, 11, 0, tzinfo=timezone.utc)
DOORS = ("territoire", "innovation", "salaries", "odd")
LEVELS = ("decouverte", "habitude", "aguerri", "moteur")
#: Masked texts, as the pipeline stores them (the pipeline replaces e-mail addresses and phone numbers).
INBOX_TEXTS = [
    ("on est un groupement d'employeurs", "groupement employeurs", "actor_type"),
    ("On est un groupement d'employeurs !", "groupement employeurs", "actor_type"),
    ("écrivez-moi à [adresse e-mail masquée]", "ecrivez moi a adresse e mail masquee", "size"),
    ("appelez le [numéro masqué]", "appelez le numero masque", None),
    ("<b>gras</b><script>alert(1)</script>", "b gras b script alert 1 script", "scale"),
    ("on a fait deux trucs avec la mairie", "on a fait deux trucs avec la mairie", "experience"),
]


def create_tables(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def _dimensions(rng: random.Random) -> dict[str, int]:
    return {name: rng.choice((0, 17, 33, 50, 67, 83, 100)) for name in ("experience", "organisation", "evaluation", "moyens")}


def scripted(engine: Engine, survey: Questionnaire) -> dict[str, Any]:
    """A known mix: finished, abandoned at known questions, not understood, corrected, plus rows outside the period.

    Returns what was scripted (for readable assertions; the tests recount from the tables).
    """
    rng = random.Random(15)
    questions = list(survey.question_ids)
    conversations: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []
    # (how many, index of the question where they stop or None when they finish, when)
    plan = [(6, None, T0), (3, questions.index("size"), T0 + timedelta(days=1)),
            (2, questions.index("experience"), T0 + timedelta(days=8)), (1, questions.index("horizon"), T0),
            (2, None, BEFORE), (1, questions.index("theme"), BEFORE)]
    number = 0
    for count, stop, when in plan:
        for _ in range(count):
            number += 1
            visitor = visitor_key(f"scripted-{number}")
            # Finished ones spread over five days, so that the charts show more than one column.
            moment = when + timedelta(days=number % 5 if stop is None else 0, minutes=number)
            reached = questions if stop is None else questions[: stop + 1]
            for position, question_id in enumerate(reached):
                at = moment + timedelta(seconds=10 * position)
                events.append({"visitor": visitor, "question_id": question_id, "kind": ASKED, "at": at})
                if stop is not None and position == stop:
                    break  # asked, never answered: left here
                if number % 3 == 0 and position in (1, 4):
                    events.append({"visitor": visitor, "question_id": question_id, "kind": NOT_UNDERSTOOD, "at": at})
                    events.append({"visitor": visitor, "question_id": question_id, "kind": ASKED, "at": at})
                kind = TYPED if (number + position) % 4 == 0 else CLICKED
                events.append({"visitor": visitor, "question_id": question_id, "kind": kind, "at": at})
                if number % 5 == 0 and position == 2:
                    events.append({"visitor": visitor, "question_id": question_id, "kind": CORRECTED, "at": at})
            finished = stop is None
            end = moment + timedelta(minutes=5)
            conversations.append({
                "visitor": visitor, "started_at": moment, "last_event_at": end, "user_messages": len(reached) + 2,
                "diagnostic_started_at": moment, "diagnostic_finished_at": end if finished else None,
                "last_question": None if finished else questions[stop],
            })
            diagnostics.append({
                "conversation_id": f"scripted-{number}", "status": "completed" if finished else "in_progress",
                "answers": {}, "started_at": moment, "updated_at": end,
                "completed_at": end if finished else None,
                "door": DOORS[number % 4] if finished else None, "level": LEVELS[number % 3] if finished else None,
                "maturity": 40 if finished else None,
                "result": {"dimensions": _dimensions(rng)} if finished else None,
            })
    # Two conversations that never started the diagnostic, one abandoned diagnostic (status abandoned).
    for extra in range(2):
        conversations.append({"visitor": visitor_key(f"chat-{extra}"), "started_at": T0 + timedelta(hours=extra),
                              "last_event_at": T0 + timedelta(hours=extra), "user_messages": 2,
                              "diagnostic_started_at": None, "diagnostic_finished_at": None, "last_question": None})
    diagnostics.append({"conversation_id": "abandoned", "status": "abandoned", "answers": {}, "started_at": T0,
                        "updated_at": T0, "completed_at": None, "door": None, "level": None, "maturity": None,
                        "result": None})
    inbox = [{"visitor": visitor_key(f"scripted-{index}"), "text": text, "group_key": key, "question_id": question,
              "reason": INBOX_FALLBACK if question is None else INBOX_NOT_AN_ANSWER,
              "received_at": T0 + timedelta(hours=index)} for index, (text, key, question) in enumerate(INBOX_TEXTS)]
    gaps = [{"visitor": visitor_key(f"gap-{index}"), "text": text, "group_key": key, "asked_at": T0 + timedelta(hours=index)}
            for index, (text, key) in enumerate([("le label lucie c'est quoi", "le label lucie c est quoi"),
                                                 ("Le label LUCIE c'est quoi ?", "le label lucie c est quoi"),
                                                 ("combien d'alliances en Bretagne", "combien d alliances en bretagne")])]
    feedback = [{"visitor": visitor_key(f"scripted-{index}"), "useful": index % 4 != 0,
                 "comment": comment, "door": DOORS[index % 4], "level": "habitude", "given_at": T0 + timedelta(hours=index)}
                for index, comment in enumerate(["Trop long", None, "<i>très</i> clair, merci", None, ""])]
    with engine.begin() as connection:
        connection.execute(insert(ConversationStat), conversations)
        connection.execute(insert(QuestionEvent), events)
        connection.execute(insert(Diagnostic), diagnostics)
        connection.execute(insert(InboxMessage), inbox)
        connection.execute(insert(KnowledgeGap), gaps)
        connection.execute(insert(Feedback), feedback)
        workshop = connection.execute(insert(Workshop).values(
            code="ABC234", title="Atelier Lyon", token_hash="0" * 64, created_at=T0, expires_at=T0 + timedelta(hours=4)))
        connection.execute(insert(WorkshopParticipant), [
            {"workshop_id": workshop.inserted_primary_key[0], "conversation_id": f"scripted-{n}", "joined_at": T0}
            for n in (1, 2, 3)])
    return {"conversations": len(conversations), "events": len(events), "diagnostics": len(diagnostics)}


def large(engine: Engine, survey: Questionnaire, diagnostics: int = 10_000, events: int = 100_000,
          days: int = 90, seed: int = 15) -> None:
    """``diagnostics`` diagnostics over ``days`` days before now, with about ``events`` question events."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    questions = list(survey.question_ids)
    per_visitor = max(1, -(-events // diagnostics)) + 4  # abandoned ones write fewer: cut at ``events`` below
    conversation_rows, event_rows, diagnostic_rows, inbox_rows = [], [], [], []
    for number in range(diagnostics):
        visitor = visitor_key(f"bench-{number}")
        start = now - timedelta(days=rng.uniform(0, days))
        stop = len(questions) if rng.random() < 0.7 else rng.randrange(len(questions))
        finished = stop == len(questions)
        written = 0
        for position, question_id in enumerate(questions[: stop + 1] if not finished else questions):
            at = start + timedelta(seconds=20 * position)
            event_rows.append({"visitor": visitor, "question_id": question_id, "kind": ASKED, "at": at})
            written += 1
            if written >= per_visitor:
                break
            if not finished and position == stop:
                break
            event_rows.append({"visitor": visitor, "question_id": question_id,
                               "kind": rng.choice((CLICKED, CLICKED, TYPED, NOT_UNDERSTOOD, CORRECTED)), "at": at})
            written += 1
            if written >= per_visitor:
                break
        end = start + timedelta(minutes=6)
        conversation_rows.append({"visitor": visitor, "started_at": start, "last_event_at": end, "user_messages": 15,
                                  "diagnostic_started_at": start, "diagnostic_finished_at": end if finished else None,
                                  "last_question": None if finished else questions[stop]})
        diagnostic_rows.append({"conversation_id": f"bench-{number}", "status": "completed" if finished else "in_progress",
                                "answers": {}, "started_at": start, "updated_at": end,
                                "completed_at": end if finished else None,
                                "door": rng.choice(DOORS) if finished else None,
                                "level": rng.choice(LEVELS) if finished else None, "maturity": 50 if finished else None,
                                "result": {"dimensions": _dimensions(rng), "tools": ["x"] * 6} if finished else None})
        if number % 10 == 0:
            group = rng.randrange(300)
            inbox_rows.append({"visitor": visitor, "text": f"message incompris numéro {group}",
                               "group_key": f"message incompris numero {group}", "question_id": rng.choice(questions),
                               "reason": INBOX_NOT_AN_ANSWER, "received_at": start})
    event_rows = event_rows[:events]
    with engine.begin() as connection:
        for table, rows in ((ConversationStat, conversation_rows), (Diagnostic, diagnostic_rows),
                            (InboxMessage, inbox_rows)):
            for index in range(0, len(rows), 5000):
                connection.execute(insert(table), rows[index: index + 5000])
        for index in range(0, len(event_rows), 10_000):
            connection.execute(insert(QuestionEvent), event_rows[index: index + 10_000])
