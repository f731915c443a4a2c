"""SQLAlchemy tables of the project database.

The questionnaire (doors, levels, questions, options) is loaded from
``data/questionnaire.yml`` by :mod:`bot.store.loader`; diagnostics are written by the
action server as users answer; workshops (:mod:`bot.workshops`) link
conversations to a trainer's session without touching the diagnostics table.
Rasa's own tracker store is a separate database.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DoorRow(Base):
    __tablename__ = "doors"

    id = Column(String(32), primary_key=True)
    position = Column(Integer, nullable=False)
    label = Column(String(200), nullable=False)
    data = Column(JSON, nullable=False)


class LevelRow(Base):
    __tablename__ = "levels"

    id = Column(String(32), primary_key=True)
    position = Column(Integer, nullable=False)
    label = Column(String(200), nullable=False)
    data = Column(JSON, nullable=False)


class QuestionRow(Base):
    __tablename__ = "questions"

    id = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False, unique=True)
    section = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)
    data = Column(JSON, nullable=False)


class OptionRow(Base):
    __tablename__ = "options"
    __table_args__ = (UniqueConstraint("question_id", "option_id"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    question_id = Column(String(64), ForeignKey("questions.id", ondelete="CASCADE"), nullable=False)
    option_id = Column(String(64), nullable=False)
    position = Column(Integer, nullable=False)
    label = Column(String(300), nullable=False)
    score = Column(Integer, nullable=True)
    data = Column(JSON, nullable=False)


class QuestionnaireRules(Base):
    """The parts of the questionnaire that are not rows: dimensions, tie-break, maturity rules."""

    __tablename__ = "questionnaire_rules"

    id = Column(Integer, primary_key=True)
    data = Column(JSON, nullable=False)
    loaded_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Diagnostic(Base):
    """One run of the questionnaire by one conversation (no name, no e-mail, no address)."""

    __tablename__ = "diagnostics"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="in_progress")
    answers = Column(JSON, nullable=False, default=dict)
    current_question = Column(String(64), nullable=True)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    completed_at = Column(DateTime(timezone=True), nullable=True)
    door = Column(String(32), nullable=True)
    level = Column(String(32), nullable=True)
    maturity = Column(Integer, nullable=True)
    result = Column(JSON, nullable=True)

    def answers_dict(self) -> dict[str, Any]:
        return dict(self.answers or {})



class Workshop(Base):
    """A trainer's session: participants join with ``code``; the dashboard needs the secret token.

    Only the SHA-256 of the token is stored: a copy of the database does not open the dashboards.
    """

    __tablename__ = "workshops"

    id = Column(Integer, primary_key=True, autoincrement=True)
    code = Column(String(8), nullable=False, unique=True, index=True)
    title = Column(String(120), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    closed_at = Column(DateTime(timezone=True), nullable=True)
    # The trainer keeps the results past the retention age (bot/store/privacy.py leaves them).
    keep_results = Column(Boolean, nullable=False, default=False)


class WorkshopParticipant(Base):
    """A conversation that joined a workshop (its diagnostics stay in ``diagnostics``)."""

    __tablename__ = "workshop_participants"
    __table_args__ = (UniqueConstraint("workshop_id", "conversation_id", name="uq_workshop_participant"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    workshop_id = Column(Integer, ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    joined_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CodeAttempt(Base):
    """One wrong workshop code typed in a conversation (rate limiting; no IP address is stored)."""

    __tablename__ = "workshop_code_attempts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    attempted_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class _KnowledgeColumns:
    """Columns shared by every kind of knowledge entry (see bot/knowledge/model.py)."""

    id = Column(String(100), primary_key=True)
    position = Column(Integer, nullable=False)
    title = Column(String(300), nullable=False)
    text = Column(Text, nullable=False)
    source_file = Column(String(64), nullable=False)
    source_start = Column(Integer, nullable=False)
    source_end = Column(Integer, nullable=False)
    tags = Column(JSON, nullable=False, default=dict)
    data = Column(JSON, nullable=False, default=dict)


class DoorProfileRow(_KnowledgeColumns, Base):
    __tablename__ = "door_profiles"


class ToolRow(_KnowledgeColumns, Base):
    __tablename__ = "tools"


class ExampleRow(_KnowledgeColumns, Base):
    __tablename__ = "examples"


class SupportStructureRow(_KnowledgeColumns, Base):
    __tablename__ = "support_structures"


class GlossaryTermRow(_KnowledgeColumns, Base):
    __tablename__ = "glossary_terms"


class KeyFigureRow(_KnowledgeColumns, Base):
    __tablename__ = "key_figures"


class ActionStepRow(_KnowledgeColumns, Base):
    """A step of the action plan (data/knowledge/steps.yml); its tool ids are in ``data``."""

    __tablename__ = "action_steps"


KNOWLEDGE_TABLES = {
    "door": DoorProfileRow,
    "tool": ToolRow,
    "example": ExampleRow,
    "support_structure": SupportStructureRow,
    "term": GlossaryTermRow,
    "figure": KeyFigureRow,
    "step": ActionStepRow,
}
