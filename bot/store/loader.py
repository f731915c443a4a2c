"""Load the questionnaire YAML into the project database, and read it back.

``python -m bot.store.loader`` validates ``data/questionnaire.yml`` first (refusing bad
content with a message naming the file, the entry and the field), then replaces
the questionnaire tables in one transaction: running it twice gives the same
database. The action server and the web app read the questionnaire from the
database with :func:`read_questionnaire`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from bot.diagnostic.questionnaire import Questionnaire, QuestionnaireError, load_questionnaire
from bot.knowledge.model import KNOWLEDGE_DIR, Catalogue, Entry, KnowledgeError, Source, load_catalogue
from bot.settings import get_settings
from bot.store import analytics_tables  # noqa: F401  (registers the analytics tables on Base.metadata)
from bot.store.db import get_engine, session_scope
from bot.store.tables import KNOWLEDGE_TABLES, Base, DoorRow, LevelRow, OptionRow, QuestionnaireRules, QuestionRow

RULE_KEYS = ("dimensions", "sections", "tie_break", "maturity_rule")


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet."""
    Base.metadata.create_all(engine)


def load_questionnaire_into_db(engine: Engine, path: Path) -> Questionnaire:
    """Validate the YAML at ``path`` and make the database hold exactly it."""
    questionnaire = load_questionnaire(path)  # raises QuestionnaireError before any write
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    create_schema(engine)
    with session_scope(engine) as session:
        for table in (OptionRow, QuestionRow, DoorRow, LevelRow, QuestionnaireRules):
            session.execute(delete(table))
        for position, door in enumerate(raw["doors"]):
            session.add(DoorRow(id=door["id"], position=position, label=door["label"], data=door))
        for position, level in enumerate(raw["levels"]):
            session.add(LevelRow(id=level["id"], position=position, label=level["label"], data=level))
        session.flush()
        for position, question in enumerate(raw["questions"]):
            fields = {key: value for key, value in question.items() if key != "options"}
            session.add(
                QuestionRow(
                    id=question["id"], position=position, section=question["section"], text=question["text"], data=fields
                )
            )
        session.flush()
        for question in raw["questions"]:
            for position, option in enumerate(question["options"]):
                session.add(
                    OptionRow(
                        question_id=question["id"],
                        option_id=option["id"],
                        position=position,
                        label=option["label"],
                        score=option.get("score"),
                        data=option,
                    )
                )
        session.add(QuestionnaireRules(id=1, data={key: raw[key] for key in RULE_KEYS if key in raw}))
    return questionnaire


def load_catalogue_into_db(engine: Engine, catalogue: Catalogue) -> None:
    """Make the knowledge tables hold exactly ``catalogue`` (one transaction)."""
    create_schema(engine)
    with session_scope(engine) as session:
        for kind, table in KNOWLEDGE_TABLES.items():
            session.execute(delete(table))
            for position, entry in enumerate(catalogue.of(kind)):
                session.add(table(
                    id=entry.id, position=position, title=entry.title, text=entry.text,
                    source_file=entry.source.file, source_start=entry.source.start, source_end=entry.source.end,
                    tags={name: list(values) for name, values in entry.tags.items()}, data=dict(entry.fields),
                ))


def read_catalogue(engine: Engine | None = None) -> Catalogue:
    """The knowledge base as loaded in the database."""
    entries: dict[str, tuple[Entry, ...]] = {}
    with session_scope(engine) as session:
        for kind, table in KNOWLEDGE_TABLES.items():
            rows = session.execute(select(table).order_by(table.position)).scalars()
            entries[kind] = tuple(
                Entry(kind=kind, id=row.id, title=row.title, text=row.text,
                      source=Source(row.source_file, row.source_start, row.source_end),
                      tags={name: tuple(values) for name, values in (row.tags or {}).items()},
                      fields=dict(row.data or {}))
                for row in rows
            )
    return Catalogue(entries)


def read_questionnaire(engine: Engine | None = None) -> Questionnaire:
    """Rebuild the questionnaire from the database (validated like the YAML)."""
    with session_scope(engine) as session:
        doors = [row.data for row in session.execute(select(DoorRow).order_by(DoorRow.position)).scalars()]
        levels = [row.data for row in session.execute(select(LevelRow).order_by(LevelRow.position)).scalars()]
        questions = [dict(row.data) for row in session.execute(select(QuestionRow).order_by(QuestionRow.position)).scalars()]
        options = session.execute(select(OptionRow).order_by(OptionRow.question_id, OptionRow.position)).scalars()
        by_question: dict[str, list[dict[str, Any]]] = {}
        for option in options:
            by_question.setdefault(option.question_id, []).append(option.data)
        rules = session.get(QuestionnaireRules, 1)
        if rules is None:
            raise QuestionnaireError("database: the questionnaire is not loaded (run `python -m bot.store.loader`)")
        data = {"doors": doors, "levels": levels, **rules.data}
    for question in questions:
        question["options"] = by_question.get(question["id"], [])
    data["questions"] = questions
    return Questionnaire.from_dict(data, "database")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate data/ and load it into the project database.")
    parser.add_argument("--questionnaire", type=Path, default=None)
    parser.add_argument("--knowledge", type=Path, default=KNOWLEDGE_DIR, help="folder of the knowledge YAML files")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL from the settings")
    args = parser.parse_args(argv)
    settings = get_settings()
    engine = get_engine(args.database_url or settings.database_url)
    try:
        # Validate everything before writing anything.
        questionnaire = load_questionnaire(args.questionnaire or settings.questionnaire_path)
        catalogue = load_catalogue(questionnaire, args.knowledge)
        load_questionnaire_into_db(engine, args.questionnaire or settings.questionnaire_path)
        load_catalogue_into_db(engine, catalogue)
    except (QuestionnaireError, KnowledgeError) as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    options = sum(len(question.options) for question in questionnaire.questions)
    counts = ", ".join(f"{len(catalogue.of(kind))} {kind}s" for kind in KNOWLEDGE_TABLES)
    print(f"loaded {questionnaire.total} questions, {options} options, {len(questionnaire.doors)} doors; {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
