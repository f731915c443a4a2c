"""Workshops: codes, tokens, joining, wrong-code lock, dashboard and CSV export (SQLite and PostgreSQL).

The dashboard is checked against an independent recount made with plain SQL,
one query per participant, after 30 participants joined and answered at the
same time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from bot import workshops
from bot.diagnostic.questionnaire import NSP, Questionnaire, load_questionnaire
from bot.diagnostic.scoring import compute_result
from bot.settings import get_settings
from bot.store.db import get_engine
from bot.store.diagnostics import abandon, record_progress, record_result
from bot.store.tables import Base, Workshop, WorkshopParticipant
from bot.workshops import (
    BOM,
    CODE_ALPHABET,
    CODE_LENGTH,
    LOCK_MINUTES,
    MAX_WRONG_CODES,
    WorkshopNotFound,
    candidate_codes,
    clear_wrong_codes,
    close_workshop,
    code_attempts_locked,
    code_lock_ends_at,
    create_workshop,
    csv_columns,
    dashboard,
    export_csv,
    export_csv_bytes,
    extract_code,
    find_by_token,
    find_open_by_code,
    format_code,
    generate_code,
    hash_token,
    join,
    normalise_code,
    record_wrong_code,
)
from tests.databases import throwaway_engine

CONFUSABLE = set("0O1IL")

SURVEY = load_questionnaire()


# ------------------------------------------------------------------ databases


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with throwaway_engine(request.param, tmp_path) as created:
        Base.metadata.create_all(created)
        yield created


# -------------------------------------------------------------------- helpers

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=timezone.utc)


def random_answers(rng: random.Random) -> dict[str, Any]:
    """A valid answer to every question: an option, sometimes « je ne sais pas », a list for multi questions."""
    answers: dict[str, Any] = {}
    for question in SURVEY.questions:
        if question.multi is not None and rng.random() < 0.4:
            answers[question.id] = rng.sample(list(question.multi.choices), rng.randint(1, len(question.multi.choices)))
        elif rng.random() < 0.1:
            answers[question.id] = NSP
        else:
            answers[question.id] = rng.choice(question.option_ids)
    return answers


def answer_everything(conversation_id: str, answers: dict[str, Any], engine: Engine) -> dict[str, Any]:
    """Answer question by question as the action server does, then store the result."""
    given: dict[str, Any] = {}
    for question in SURVEY.questions:
        record_progress(conversation_id, given, question.id, engine=engine)
        given[question.id] = answers[question.id]
    result = compute_result(SURVEY, given).to_dict()
    record_result(conversation_id, given, result, engine=engine)
    return result


def recount(workshop_id: int, engine: Engine) -> list[dict[str, Any]]:
    """Independent recount with plain SQL: each participant's latest diagnostic completed after joining."""
    found = []
    with engine.connect() as connection:
        participants = connection.execute(
            text("SELECT conversation_id, joined_at FROM workshop_participants WHERE workshop_id = :w ORDER BY id"),
            {"w": workshop_id},
        ).all()
        for conversation_id, joined_at in participants:
            row = connection.execute(
                text(
                    "SELECT door, level, maturity, result FROM diagnostics WHERE conversation_id = :c "
                    "AND status = 'completed' AND completed_at >= :j ORDER BY completed_at DESC, id DESC LIMIT 1"
                ),
                {"c": conversation_id, "j": joined_at},
            ).first()
            if row is not None:
                result = json.loads(row.result) if isinstance(row.result, str) else row.result
                found.append({"door": row.door, "level": row.level, "maturity": row.maturity, **result})
    return found


def half_up(values: list[int]) -> float:
    mean = Decimal(sum(values)) / Decimal(len(values))
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements an engine runs inside the ``with`` block."""
    statements: list[str] = []

    def remember(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)


# ---------------------------------------------------------------------- codes


def test_codes_are_six_unambiguous_characters_with_a_letter_and_a_digit() -> None:
    assert not CONFUSABLE & set(CODE_ALPHABET) and CODE_LENGTH == 6
    for _ in range(2000):
        code = generate_code()
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET), code
        assert any(c.isdigit() for c in code) and any(c.isalpha() for c in code), code


def test_normalise_and_format_round_trip() -> None:
    for _ in range(200):
        code = generate_code()
        shown = format_code(code)
        assert re.fullmatch(r"[A-Z2-9]{3}-[A-Z2-9]{3}", shown)
        for spelling in (shown, shown.lower(), code.lower(), f"  {shown[:3]} {shown[4:]} ", " ".join(code)):
            assert normalise_code(spelling) == code, spelling
    assert format_code("abc 234") == "ABC-234"


@pytest.mark.parametrize(
    "text",
    ["", "ABC23", "ABC2345", "ABC-230", "AB0-234", "ABI-234", "ABCDEF", "234567", "ABC.234", "ÀBC-234", "ABC_234"],
)
def test_what_cannot_be_a_code_is_refused(text: str) -> None:
    assert normalise_code(text) is None
    assert normalise_code(None) is None


def test_a_code_is_found_inside_a_sentence() -> None:
    assert extract_code("mon code est abc-234 merci") == "ABC234"
    assert extract_code("Le code c'est XYZ 789 !") == "XYZ789"
    assert extract_code("« ab3xyz »") == "AB3XYZ"
    assert extract_code("je suis dans une PME de parent d'élèves") is None
    assert extract_code("a" * 10_000) is None


def test_a_code_in_one_piece_comes_before_two_words_joined() -> None:
    # « est » + « S6F » looks like a code too: the code written in one piece must be tried first.
    assert candidate_codes("le code est S6F-K2M") == ["S6FK2M", "ESTS6F"]
    assert extract_code("le code est s6fk2m") == "S6FK2M"
    assert candidate_codes("code HB7 K2M") == ["HB7K2M"]
    assert candidate_codes("le code est ABC") == []


def test_a_thousand_workshops_get_a_thousand_codes(engine: Engine) -> None:
    codes = [create_workshop(f"Atelier {n}", engine=engine).code for n in range(1000)]
    assert len(set(codes)) == 1000
    assert all(normalise_code(code) == code for code in codes)


def test_a_code_already_taken_is_drawn_again(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["ABC234", "ABC234", "ABC234", "XYZ789"])
    monkeypatch.setattr("bot.workshops.repository.generate_code", lambda: next(draws))
    first = create_workshop("Premier", engine=engine)
    second = create_workshop("Second", engine=engine)
    assert (first.code, second.code) == ("ABC234", "XYZ789")


# -------------------------------------------------------------------- tokens


def test_only_the_hash_of_the_token_is_stored(engine: Engine) -> None:
    created = create_workshop("Atelier Lyon", hours=4, engine=engine)
    assert len(created.token) >= 40 and created.token not in repr(created)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM workshops")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert created.token not in stored
    assert hash_token(created.token) == hashlib.sha256(created.token.encode()).hexdigest()
    assert hash_token(created.token) in stored

    found = find_by_token(created.token, engine=engine)
    assert found is not None and (found.id, found.title, found.code) == (created.id, "Atelier Lyon", created.code)
    assert found.expires_at - found.created_at == timedelta(hours=4)


@pytest.mark.parametrize("transform", [lambda t: t[:-1], lambda t: t + "x", lambda t: t.upper(), lambda t: ""])
def test_a_wrong_token_finds_nothing(engine: Engine, transform: Any) -> None:
    created = create_workshop("Atelier", engine=engine)
    assert find_by_token(transform(created.token), engine=engine) is None
    assert find_by_token(hash_token(created.token), engine=engine) is None  # the stored hash is no key
    assert find_by_token(created.code, engine=engine) is None  # nor is the code


# -------------------------------------------------------------- validation


def test_titles_and_durations_are_checked_with_french_messages(engine: Engine) -> None:
    for bad in ("", "   \n ", "x" * 121):
        with pytest.raises(ValueError, match="titre"):
            create_workshop(bad, engine=engine)
    for hours in (0, -1, 10_000):
        with pytest.raises(ValueError, match="durée"):
            create_workshop("Atelier", hours=hours, engine=engine)
    assert create_workshop("  Atelier   d'été  ", engine=engine).title == "Atelier d'été"
    assert create_workshop("é" * 120, engine=engine).title == "é" * 120


def test_the_default_lifetime_comes_from_the_settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_HOURS", "3")
    get_settings.cache_clear()
    try:
        created = create_workshop("Atelier", now=T0, engine=engine)
    finally:
        get_settings.cache_clear()
    assert created.expires_at == T0 + timedelta(hours=3)


# -------------------------------------------------------------------- joining


def test_only_open_workshops_are_found_by_code(engine: Engine) -> None:
    created = create_workshop("Atelier", hours=1, now=T0, engine=engine)
    spoken = format_code(created.code).lower()
    assert find_open_by_code(spoken, engine=engine, now=T0 + timedelta(minutes=59)) is not None
    assert find_open_by_code(spoken, engine=engine, now=T0 + timedelta(minutes=61)) is None
    with pytest.raises(WorkshopNotFound):
        join(created.id, "late", engine=engine, now=T0 + timedelta(minutes=61))

    other = create_workshop("Atelier fermé", hours=2, engine=engine)
    assert find_open_by_code(other.code, engine=engine) is not None
    close_workshop(other.id, engine=engine)
    assert find_open_by_code(other.code, engine=engine) is None
    with pytest.raises(WorkshopNotFound):
        join(other.id, "late", engine=engine)
    closed = find_by_token(other.token, engine=engine)  # the trainer still reaches it
    assert closed is not None and closed.closed and not closed.is_open()
    guessed = next(code for code in iter(generate_code, None) if code not in (created.code, other.code))
    assert find_open_by_code(guessed, engine=engine) is None


def test_joining_twice_adds_one_participant(engine: Engine) -> None:
    created = create_workshop("Atelier", engine=engine)
    assert join(created.id, "conversation-a", engine=engine) is True
    assert join(created.id, "conversation-a", engine=engine) is False
    assert join(created.id, "conversation-b", engine=engine) is True
    with engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM workshop_participants")).scalar_one()
    assert count == 2
    with pytest.raises(WorkshopNotFound):
        join(created.id + 1000, "conversation-a", engine=engine)


def test_the_same_conversation_joining_from_ten_threads_at_once_is_one_participant(engine: Engine) -> None:
    created = create_workshop("Atelier", engine=engine)
    barrier = threading.Barrier(10)
    outcomes: list[object] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(join(created.id, "impatient", engine=engine))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            outcomes.append(error)

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=repr) == [False] * 9 + [True], outcomes
    assert dashboard(created.id, SURVEY, engine=engine)["joined"] == 1


# ------------------------------------------------------------------ wrong codes


def test_five_wrong_codes_lock_for_ten_minutes(engine: Engine) -> None:
    conversation = f"guesser-{uuid.uuid4().hex}"
    for attempt in range(1, MAX_WRONG_CODES):
        assert record_wrong_code(conversation, engine=engine, now=T0 + timedelta(minutes=attempt - 1)) == attempt
        assert not code_attempts_locked(conversation, now=T0 + timedelta(minutes=attempt - 1), engine=engine)
    fifth = T0 + timedelta(minutes=MAX_WRONG_CODES - 1)
    assert record_wrong_code(conversation, engine=engine, now=fifth) == MAX_WRONG_CODES
    assert code_attempts_locked(conversation, now=fifth, engine=engine)
    assert code_lock_ends_at(conversation, now=fifth, engine=engine) == T0 + timedelta(minutes=LOCK_MINUTES)
    assert code_attempts_locked(conversation, now=T0 + timedelta(minutes=LOCK_MINUTES, seconds=-1), engine=engine)
    assert not code_attempts_locked(conversation, now=T0 + timedelta(minutes=LOCK_MINUTES), engine=engine)
    assert not code_attempts_locked("someone-else", now=fifth, engine=engine)

    # Wrong codes spread over more than ten minutes never lock.
    patient = f"patient-{uuid.uuid4().hex}"
    for attempt in range(3 * MAX_WRONG_CODES):
        moment = T0 + timedelta(minutes=3 * attempt)
        record_wrong_code(patient, engine=engine, now=moment)
        assert not code_attempts_locked(patient, now=moment, engine=engine)


def test_a_right_code_clears_the_wrong_ones(engine: Engine) -> None:
    conversation = f"guesser-{uuid.uuid4().hex}"
    now = datetime.now(timezone.utc)
    for _ in range(MAX_WRONG_CODES):
        record_wrong_code(conversation, engine=engine, now=now)
    assert code_attempts_locked(conversation, now=now, engine=engine)
    clear_wrong_codes(conversation, engine=engine)
    assert not code_attempts_locked(conversation, now=now, engine=engine)


# ------------------------------------------------------------------ dashboard


def test_an_empty_workshop_has_a_complete_dashboard(engine: Engine) -> None:
    created = create_workshop("Atelier du matin", hours=2, engine=engine)
    board = dashboard(created.id, SURVEY, engine=engine)
    assert board["title"] == "Atelier du matin" and board["code"] == format_code(created.code)
    assert (board["joined"], board["finished"], board["results"], board["weakest_dimension"]) == (0, 0, [], None)
    assert board["doors"] == {door.id: 0 for door in SURVEY.doors}
    assert board["levels"] == {level.id: 0 for level in SURVEY.levels}
    assert board["dimensions"] == {dimension.id: None for dimension in SURVEY.dimensions}
    assert board["open"] and not board["closed"]
    json.dumps(board)
    with pytest.raises(WorkshopNotFound):
        dashboard(created.id + 1000, SURVEY, engine=engine)


def check_dashboard_against_database(board: dict[str, Any], workshop_id: int, engine: Engine, survey: Questionnaire) -> None:
    truth = recount(workshop_id, engine)
    assert board["finished"] == len(truth) == len(board["results"])
    assert board["doors"] == {door.id: sum(r["door"] == door.id for r in truth) for door in survey.doors}
    assert board["levels"] == {level.id: sum(r["level"] == level.id for r in truth) for level in survey.levels}
    assert sum(board["doors"].values()) == sum(board["levels"].values()) == board["finished"]
    averages = {d.id: half_up([r["dimensions"][d.id] for r in truth]) for d in survey.dimensions}
    assert board["dimensions"] == averages
    sums = {d.id: sum(r["dimensions"][d.id] for r in truth) for d in survey.dimensions}
    assert board["weakest_dimension"] == min(sums, key=lambda d: sums[d])  # same count: lowest sum, data order
    assert sorted(r["maturity"] for r in board["results"]) == sorted(r["maturity"] for r in truth)


def test_thirty_participants_at_once_are_all_counted_once(engine: Engine) -> None:
    created = create_workshop("Atelier à Évry", engine=engine)
    conversations = [f"conv-{n}-{uuid.uuid4().hex}" for n in range(30)]
    expected: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(conversations))

    def participant(n: int, conversation_id: str) -> None:
        try:
            rng = random.Random(n)
            barrier.wait()
            join(created.id, conversation_id, engine=engine)
            join(created.id, conversation_id, engine=engine)  # a double click
            if n % 10 == 9:
                return  # joined, still answering
            if n % 7 == 3:  # started, restarted: only the new diagnostic counts
                record_progress(conversation_id, {"actor_type": "association"}, "size", engine=engine)
                abandon(conversation_id, engine=engine)
            expected[conversation_id] = answer_everything(conversation_id, random_answers(rng), engine)
            if n % 8 == 5:  # did it again with other answers: the latest result counts
                expected[conversation_id] = answer_everything(conversation_id, random_answers(rng), engine)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    # Someone who answered before joining, and someone who never joined: neither is counted.
    answer_everything("early-bird", random_answers(random.Random(100)), engine)
    answer_everything("stranger", random_answers(random.Random(101)), engine)
    conversations.append("early-bird")

    threads = [threading.Thread(target=participant, args=(n, c)) for n, c in enumerate(conversations[:30])]
    for thread in threads:
        thread.start()
    join(created.id, "early-bird", engine=engine)
    for thread in threads:
        thread.join()
    assert not errors, errors

    board = dashboard(created.id, SURVEY, engine=engine)
    assert board["joined"] == 31 and board["finished"] == len(expected) == 27
    check_dashboard_against_database(board, created.id, engine, SURVEY)
    assert Counter(r["door"] for r in board["results"]) == Counter(r["door"] for r in expected.values())
    assert sorted(json.dumps(r["dimensions"], sort_keys=True) for r in board["results"]) == sorted(
        json.dumps(r["dimensions"], sort_keys=True) for r in expected.values()
    )
    numbers = [r["participant"] for r in board["results"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == 27 and set(numbers) <= set(range(1, 32))
    text_of_board = json.dumps(board)
    assert not any(conversation in text_of_board for conversation in conversations + ["stranger"])


def test_results_after_closing_or_from_another_workshop_are_not_counted(engine: Engine) -> None:
    morning = create_workshop("Matin", engine=engine)
    afternoon = create_workshop("Après-midi", engine=engine)
    join(morning.id, "twice", engine=engine)
    first = answer_everything("twice", {q.id: NSP for q in SURVEY.questions}, engine)
    join(afternoon.id, "twice", engine=engine)
    second = answer_everything("twice", {q.id: q.option_ids[-1] for q in SURVEY.questions}, engine)
    assert first["level"] != second["level"]
    assert [r["level"] for r in dashboard(morning.id, SURVEY, engine=engine)["results"]] == [first["level"]]
    assert [r["level"] for r in dashboard(afternoon.id, SURVEY, engine=engine)["results"]] == [second["level"]]

    join(afternoon.id, "late", engine=engine)
    close_workshop(afternoon.id, engine=engine)
    answer_everything("late", random_answers(random.Random(7)), engine)
    board = dashboard(afternoon.id, SURVEY, engine=engine)
    assert (board["joined"], board["finished"], board["closed"], board["open"]) == (2, 1, True, False)


def test_averages_round_half_up_and_ties_for_the_weakest_go_to_the_first_dimension(engine: Engine) -> None:
    created = create_workshop("Atelier", engine=engine)
    for n in range(4):
        answers = {q.id: NSP for q in SURVEY.questions}
        if n == 3:
            answers["organisation"] = "convention"  # 33 %: the group's mean is 8.25 %
        join(created.id, f"rounding-{n}", engine=engine)
        answer_everything(f"rounding-{n}", answers, engine)
    board = dashboard(created.id, SURVEY, engine=engine)
    assert board["dimensions"] == {"experience": 0.0, "organisation": 8.3, "evaluation": 0.0, "moyens": 0.0}
    assert board["weakest_dimension"] == SURVEY.dimensions[0].id == "experience"
    assert board["levels"]["decouverte"] == 4


def test_the_dashboard_reads_200_participants_in_a_fixed_number_of_queries(engine: Engine) -> None:
    created = create_workshop("Grand atelier", engine=engine)
    rng = random.Random(200)
    for n in range(200):
        join(created.id, f"many-{n}", engine=engine)
        if n % 20:
            answers = random_answers(rng)
            record_result(f"many-{n}", answers, compute_result(SURVEY, answers).to_dict(), engine=engine)
    with count_queries(engine) as statements:
        board = dashboard(created.id, SURVEY, engine=engine)
    assert (board["joined"], board["finished"]) == (200, 190)
    assert len(statements) <= 3, statements
    with count_queries(engine) as statements:
        export_csv(created.id, SURVEY, engine=engine)
    assert len(statements) <= 3, statements
    check_dashboard_against_database(board, created.id, engine, SURVEY)


# ------------------------------------------------------------------------- CSV


def test_the_csv_export_is_anonymous_complete_and_keeps_accents(engine: Engine) -> None:
    created = create_workshop("Atelier à Évry — été", engine=engine)
    chosen = {
        "secret-conversation-1": {q.id: NSP for q in SURVEY.questions},  # Découverte
        "secret-conversation-2": {**{q.id: q.option_ids[-1] for q in SURVEY.questions}, "goal": "salaries"},
        "secret-conversation-3": {**random_answers(random.Random(3)), "partners": ["associations", "publics"]},
    }
    for conversation_id, answers in chosen.items():
        join(created.id, conversation_id, engine=engine)
        answer_everything(conversation_id, answers, engine)
    join(created.id, "secret-conversation-4", engine=engine)  # not finished: no row

    content = export_csv(created.id, SURVEY, engine=engine)
    rows = list(csv.DictReader(io.StringIO(content, newline=""), delimiter=";"))
    header = next(csv.reader(io.StringIO(content, newline=""), delimiter=";"))
    assert header == csv_columns(SURVEY)
    assert len(header) == 6 + len(SURVEY.dimensions) + len(SURVEY.doors) + 13 + 2
    assert len(rows) == 3
    assert "secret-conversation" not in content and "conversation" not in content

    board = dashboard(created.id, SURVEY, engine=engine)
    for row, result, answers in zip(rows, board["results"], chosen.values()):
        assert int(row["participant"]) == result["participant"]
        assert (row["porte"], row["niveau"], int(row["maturite"])) == (result["door"], result["level"], result["maturity"])
        assert row["porte_libelle"] == SURVEY.door(result["door"]).label
        assert row["niveau_libelle"] == SURVEY.level(result["level"]).label
        for dimension in SURVEY.dimensions:
            assert int(row[f"dimension_{dimension.id}"]) == result["dimensions"][dimension.id]
        for question in SURVEY.questions:
            given = answers[question.id]
            assert row[question.id] == (";".join(given) if isinstance(given, list) else given)
        started, completed = datetime.fromisoformat(row["debut"]), datetime.fromisoformat(row["fin"])
        assert started.tzinfo is not None and started <= completed
    assert rows[0]["niveau_libelle"] == "Découverte"
    assert rows[1]["porte_libelle"] == "L'engagement des salariés"
    assert rows[2]["partners"] == "associations;publics"

    data = export_csv_bytes(created.id, SURVEY, engine=engine)
    assert data.startswith(b"\xef\xbb\xbf") and BOM == "\ufeff"
    assert data.decode("utf-8-sig") == content
    assert "Découverte".encode() in data and "salariés".encode() in data


# ------------------------------------------------------------------ command line


def test_the_command_line_creates_exports_and_closes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"  # a fresh database: the command creates the tables
    try:
        assert workshops.main(["--database-url", url, "create", "--title", "Atelier Lyon", "--hours", "4"]) == 0
        printed = capsys.readouterr().out
        token = re.search(r"/ateliers/(\S+)", printed).group(1)  # type: ignore[union-attr]
        code = re.search(r"participants : ([A-Z2-9]{3}-[A-Z2-9]{3})", printed).group(1)  # type: ignore[union-attr]
        engine = get_engine(url)
        found = find_by_token(token, engine=engine)
        assert found is not None and found.title == "Atelier Lyon" and found.display_code == code
        assert found.expires_at - found.created_at == timedelta(hours=4)

        join(found.id, "cli-participant", engine=engine)
        answer_everything("cli-participant", random_answers(random.Random(1)), engine)
        out = tmp_path / "resultats.csv"
        assert workshops.main(["--database-url", url, "export", "--token", token, "--out", str(out)]) == 0
        data = out.read_bytes()
        assert data.startswith(BOM.encode()) and data.count(b"\r\n") == 2
        assert "1 résultat" in capsys.readouterr().out

        # The whole link works as well as the bare token; unknown tokens are refused.
        link = f"http://localhost:8000/ateliers/{token}"
        assert workshops.main(["--database-url", url, "close", "--token", link]) == 0
        assert "fermé" in capsys.readouterr().out
        assert find_open_by_code(code, engine=engine) is None
        assert workshops.main(["--database-url", url, "close", "--token", "x" * 43]) == 1
        assert "Aucun atelier" in capsys.readouterr().err
        assert workshops.main(["--database-url", url, "create", "--title", "  "]) == 2
        assert "titre" in capsys.readouterr().err
    finally:
        get_engine(url).dispose()


def test_the_command_line_writes_the_csv_to_standard_output(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    try:
        engine = get_engine(url)
        Base.metadata.create_all(engine)
        created = create_workshop("Atelier d'été", engine=engine)
        assert workshops.main(["--database-url", url, "export", "--token", created.token]) == 0
        data = capsysbinary.readouterr().out
        assert data.startswith(BOM.encode()) and data.decode("utf-8-sig").startswith("participant;porte;")
    finally:
        get_engine(url).dispose()


def test_the_tables_link_diagnostics_without_changing_them(engine: Engine) -> None:
    created = create_workshop("Atelier", engine=engine)
    join(created.id, "linked", engine=engine)
    with engine.connect() as connection:
        columns = connection.execute(select(WorkshopParticipant.__table__)).keys()
    assert list(columns) == ["id", "workshop_id", "conversation_id", "joined_at"]
    assert Workshop.__table__.c.token_hash.type.length == 64


def test_a_trainer_can_keep_the_results_past_the_retention_age(engine: Engine) -> None:
    created = create_workshop("Atelier à garder", hours=2, engine=engine)
    workshops.keep_results(created.id, engine=engine)
    with engine.connect() as connection:
        assert connection.execute(select(Workshop.keep_results).where(Workshop.id == created.id)).scalar_one() is True
    workshops.keep_results(created.id, False, engine=engine)
    with engine.connect() as connection:
        assert connection.execute(select(Workshop.keep_results).where(Workshop.id == created.id)).scalar_one() is False
