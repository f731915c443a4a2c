"""The console's figures on a scripted database, each one recounted straight from the tables with plain SQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.console import csv_export, figures, funnel, listening
from bot.console.period import Period, parse_period
from bot.diagnostic.questionnaire import load_questionnaire
from bot.store.db import session_scope
from tests import console_seed
from tests.databases import throwaway_engine

SURVEY = load_questionnaire()
PERIOD = parse_period(*console_seed.PERIOD)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with throwaway_engine(request.param, tmp_path) as created:
        console_seed.create_tables(created)
        console_seed.scripted(created, SURVEY)
        yield created


def bound(engine: Engine, moment: datetime) -> object:
    """A UTC instant as the database compares it (SQLite: the text SQLAlchemy writes)."""
    if engine.dialect.name == "sqlite":
        return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S.%f}"
    return moment


def sql(engine: Engine, query: str, **params: object) -> list[tuple]:
    limits = {"start": bound(engine, PERIOD.start), "end": bound(engine, PERIOD.end)}
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query), {**limits, **params})]


def scalar(engine: Engine, query: str, **params: object) -> int:
    return int(sql(engine, query, **params)[0][0] or 0)


def test_the_overview_equals_a_recount(engine: Engine) -> None:
    with session_scope(engine) as session:
        data = figures.overview(session, PERIOD, SURVEY)
    assert data.conversations == scalar(
        engine, "SELECT COUNT(*) FROM analytics_conversations WHERE started_at >= :start AND started_at < :end") == 14
    assert data.started == scalar(
        engine, "SELECT COUNT(*) FROM diagnostics WHERE started_at >= :start AND started_at < :end") == 13
    finished = ("FROM diagnostics WHERE status = 'completed' AND completed_at >= :start AND completed_at < :end")
    assert data.finished == scalar(engine, f"SELECT COUNT(*) {finished}") == 6
    assert data.completion_rate == round(100 * 6 / 13)
    assert {door: count for door, count in data.doors.items() if count} == dict(
        sql(engine, f"SELECT door, COUNT(*) {finished} GROUP BY door"))
    assert {level: count for level, count in data.levels.items() if count} == dict(
        sql(engine, f"SELECT level, COUNT(*) {finished} GROUP BY level"))
    results = [row[0] for row in sql(engine, f"SELECT result {finished}")]
    for dimension in SURVEY.dimensions:
        values = [(json.loads(value) if isinstance(value, str) else value)["dimensions"][dimension.id] for value in results]
        assert data.dimensions[dimension.id] == round(sum(values) / len(values), 1)
    assert sum(bucket.finished for bucket in data.buckets) == data.finished
    assert data.buckets[0].first_day == date(2026, 11, 2)
    assert len(data.buckets) == 14  # a fortnight: one bar per day
    assert (data.workshops, data.workshop_participants) == (1, 3)


def test_every_funnel_figure_equals_a_recount(engine: Engine) -> None:
    with session_scope(engine) as session:
        steps = funnel.funnel(session, PERIOD, SURVEY)
    assert [step.question_id for step in steps] == list(SURVEY.question_ids)
    events = "FROM analytics_question_events WHERE at >= :start AND at < :end AND question_id = :question"
    for step in steps:
        question = step.question_id
        assert step.reached == scalar(engine, f"SELECT COUNT(DISTINCT visitor) {events} AND kind = 'asked'",
                                      question=question)
        assert step.left == scalar(
            engine, "SELECT COUNT(*) FROM analytics_conversations WHERE started_at >= :start AND started_at < :end "
            "AND diagnostic_started_at IS NOT NULL AND diagnostic_finished_at IS NULL AND last_question = :question",
            question=question)
        for kind in ("typed", "clicked", "not_understood", "corrected"):
            assert getattr(step, kind) == scalar(engine, f"SELECT COUNT(*) {events} AND kind = :kind",
                                                 question=question, kind=kind), (question, kind)
    by_id = {step.question_id: step for step in steps}
    # What was scripted: 6 finished + 3 left at « size » + 2 at « experience » + 1 at « horizon » in the period.
    assert by_id["actor_type"].reached == 12
    assert (by_id["size"].left, by_id["experience"].left, by_id["horizon"].left, by_id["theme"].left) == (3, 2, 1, 0)
    assert by_id["size"].reached == 12 and by_id["scale"].reached == 9 and by_id["horizon"].reached == 7
    assert sum(step.not_understood for step in steps) > 0 and sum(step.corrected for step in steps) > 0
    assert by_id["size"].typed_share == round(100 * by_id["size"].typed / (by_id["size"].typed + by_id["size"].clicked))


def test_gaps_and_feedback_equal_a_recount(engine: Engine) -> None:
    with session_scope(engine) as session:
        total, gaps = listening.knowledge_gaps(session, PERIOD)
        summary = listening.feedback(session, PERIOD)
    assert total == scalar(engine, "SELECT COUNT(*) FROM analytics_knowledge_gaps") == 3
    assert [gap.count for gap in gaps] == [2, 1]
    assert gaps[0].text == "Le label LUCIE c'est quoi ?"  # the latest text of the group
    assert summary.answers == 5 and summary.useful == scalar(engine, "SELECT COUNT(*) FROM analytics_feedback WHERE useful")
    assert summary.useful_rate == 60
    assert [comment.text for comment in summary.comments] == ["<i>très</i> clair, merci", "Trop long"]


def test_an_empty_period_gives_zeros_not_errors(engine: Engine) -> None:
    empty = Period(date(2020, 1, 1), date(2020, 1, 31))
    with session_scope(engine) as session:
        data = figures.overview(session, empty, SURVEY)
        steps = funnel.funnel(session, empty, SURVEY)
    assert (data.conversations, data.started, data.finished, data.completion_rate) == (0, 0, 0, None)
    assert set(data.dimensions.values()) == {None}
    assert all(step.reached == 0 and step.typed_share is None for step in steps)


def test_the_csv_exports_hold_the_figures_and_defuse_formulas(engine: Engine) -> None:
    with session_scope(engine) as session:
        data = figures.overview(session, PERIOD, SURVEY)
        steps = funnel.funnel(session, PERIOD, SURVEY)
    overview = csv_export.overview_csv(data, SURVEY)
    assert overview.startswith("\ufeffindicateur;periode;valeur\r\n")
    assert "diagnostics_termines;2026-11-02/2026-11-15;6\r\n" in overview
    assert csv_export.funnel_csv(steps).count("\r\n") == 1 + len(SURVEY.questions)
    gap = listening.Gap(1, "=HYPERLINK(\"http://x\")", data.period.start)
    assert "\"'=HYPERLINK" in csv_export.gaps_csv([gap])


def test_periods_are_read_and_checked() -> None:
    assert parse_period("2026-11-01", "2026-11-30").unit == "day"
    assert parse_period("2026-01-01", "2026-03-31").unit == "week"
    assert parse_period("2025-01-01", "2026-03-31").unit == "month"
    for first, last in (("2026-11-30", "2026-11-01"), ("hier", None), ("1026-01-01", "2026-01-01")):
        with pytest.raises(ValueError):
            parse_period(first, last)
    assert parse_period(None, None, now=date(2026, 12, 3)) == Period(date(2026, 11, 4), date(2026, 12, 3))
