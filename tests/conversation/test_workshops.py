"""Workshops over REST against the running stack: 30 participants at once, codes, tokens, CSV, closing."""

from __future__ import annotations

import csv
import io
import json
import random
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any

import pytest
import requests
from sqlalchemy import select

from bot.diagnostic.questionnaire import load_questionnaire
from bot.diagnostic.scoring import compute_result
from bot.runtime.stack import Stack
from bot.store.db import build_engine
from bot.store.tables import Diagnostic
from bot.workshops import CODE_ALPHABET, MAX_WRONG_CODES
from tests.client import TIMEOUT, Client, asked_position, payload, texts

PARTICIPANTS = 30
TITLE = "Atelier « élus & associations » — Pays de Gex"


def open_workshop(client: Client, title: str = TITLE, hours: float = 4) -> dict[str, Any]:
    response = requests.post(f"{client.web_url}/api/ateliers", json={"title": title, "hours": hours}, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def dashboard(client: Client, workshop: dict[str, Any]) -> dict[str, Any]:
    token_path = workshop["dashboard_url"].replace("/ateliers/", "/api/ateliers/", 1)
    response = requests.get(client.web_url + token_path, timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


def random_answers(seed: int) -> dict[str, str]:
    """A full set of valid button answers, different for each participant."""
    chooser = random.Random(seed)
    return {question.id: chooser.choice(question.option_ids) for question in load_questionnaire().questions}


def join(client: Client, sender: str, code: str, way: int) -> list[dict]:
    """Join by one of the three ways a participant can: ask then type, type the code, or the widget's payload."""
    if way == 0:
        asked = client.say(sender, "j'ai un code d'atelier")
        assert "code de votre atelier" in texts(asked), texts(asked)
        return client.say(sender, code.lower())
    if way == 1:
        return client.say(sender, f"le code est {code}")
    return client.say(sender, "/join_workshop" + json.dumps({"workshop_code": code}))


def participate(client: Client, code: str, number: int) -> tuple[str, dict[str, str]]:
    sender = client.new_sender(f"participant{number}")
    answers = random_answers(number)
    reply = join(client, sender, code, number % 3)
    assert "Bienvenue dans l'atelier" in texts(reply), texts(reply)
    assert asked_position(reply) == "1/13", texts(reply)
    for question_id, choice in answers.items():
        reply = client.say(sender, payload(question_id, choice))
    reply = client.say(sender, "/confirm_result")
    assert "Votre porte d'entrée recommandée" in texts(reply), texts(reply)
    return sender, answers


@pytest.fixture(scope="module")
def crowd(client: Client) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """One workshop and 30 participants who join and answer at the same time."""
    workshop = open_workshop(client)
    with ThreadPoolExecutor(max_workers=PARTICIPANTS) as pool:
        done = list(pool.map(lambda n: participate(client, workshop["code"], n), range(PARTICIPANTS)))
    return workshop, dict(done)


def stored_results(stack: Stack, senders: list[str]) -> list[dict[str, Any]]:
    """The participants' completed diagnostics, read straight from the database and scored again."""
    engine = build_engine(stack.env["DATABASE_URL"])
    survey = load_questionnaire()
    with engine.connect() as connection:
        rows = connection.execute(
            select(Diagnostic.conversation_id, Diagnostic.answers).where(
                Diagnostic.conversation_id.in_(senders), Diagnostic.status == "completed"
            )
        ).all()
    engine.dispose()
    return [{"sender": sender, "answers": dict(answers), "result": compute_result(survey, answers)}
            for sender, answers in rows]


def test_thirty_participants_at_once_are_all_counted_once(client: Client, stack: Stack, crowd: tuple) -> None:
    workshop, participants = crowd
    figures = dashboard(client, workshop)
    assert (figures["joined"], figures["finished"]) == (PARTICIPANTS, PARTICIPANTS)
    assert len(figures["results"]) == PARTICIPANTS
    assert sorted(row["participant"] for row in figures["results"]) == list(range(1, PARTICIPANTS + 1))

    stored = stored_results(stack, list(participants))
    assert len(stored) == PARTICIPANTS, "one completed diagnostic per participant, none lost, none doubled"
    for row in stored:
        assert row["answers"] == participants[row["sender"]], "every answer stored as given"

    survey = load_questionnaire()
    assert figures["doors"] == {door.id: sum(r["result"].door == door.id for r in stored) for door in survey.doors}
    assert figures["levels"] == {level.id: sum(r["result"].level == level.id for r in stored) for level in survey.levels}
    for dimension in survey.dimensions:
        mean = Fraction(sum(r["result"].dimensions[dimension.id] for r in stored), PARTICIPANTS)
        assert abs(Fraction(str(figures["dimensions"][dimension.id])) - mean) <= Fraction(1, 20), dimension.id
    lowest = min(figures["dimensions"].values())
    assert figures["dimensions"][figures["weakest_dimension"]] == lowest
    assert Counter(r["maturity"] for r in figures["results"]) == Counter(r["result"].maturity for r in stored)


def test_the_csv_export_is_one_row_per_participant_with_accents_intact(client: Client, crowd: tuple) -> None:
    workshop, participants = crowd
    response = requests.get(client.web_url + workshop["export_url"], timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf"), "a BOM, so that spreadsheets read UTF-8"
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == PARTICIPANTS
    survey = load_questionnaire()
    assert set(survey.question_ids) <= set(rows[0])
    labels = {row["porte_libelle"] for row in rows} | {row["niveau_libelle"] for row in rows}
    assert labels <= {door.label for door in survey.doors} | {level.label for level in survey.levels}
    assert any(character in "".join(labels) for character in "éèàç"), labels
    assert not any(sender in text for sender in participants), "no conversation id in the export"


def test_a_wrong_token_gets_nothing(client: Client, crowd: tuple) -> None:
    workshop, _ = crowd
    token = workshop["dashboard_url"].rsplit("/", 1)[1]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for guess in (secrets.token_urlsafe(32), altered, "", "x"):
        for method, path in (("get", f"/ateliers/{guess}"), ("get", f"/api/ateliers/{guess}"),
                             ("get", f"/ateliers/{guess}/export.csv"), ("post", f"/api/ateliers/{guess}/close"),
                             ("post", f"/api/ateliers/{guess}/keep")):
            response = requests.request(method, client.web_url + path, timeout=TIMEOUT)
            assert response.status_code == 404, (method, path)
            assert TITLE not in response.text and workshop["code"] not in response.text
    assert dashboard(client, workshop)["open"] is True, "a wrong token closed nothing"


def test_guessed_codes_are_refused_then_locked(client: Client, crowd: tuple) -> None:
    workshop, _ = crowd
    sender = client.new_sender("guesser")
    client.say(sender, "j'ai un code d'atelier")
    chooser = random.Random(99)
    replies = []
    for _ in range(MAX_WRONG_CODES):
        letters = [c for c in CODE_ALPHABET if c.isalpha()]
        guess = "".join(chooser.choice(letters) for _ in range(3)) + "".join(chooser.choice("23456789") for _ in range(3))
        assert guess != workshop["code"].replace("-", "")
        replies.append(texts(client.say(sender, guess)))
    assert ["ne correspond à aucun atelier ouvert" in reply for reply in replies[:-1]] == [True] * (MAX_WRONG_CODES - 1), "\n---\n".join(replies)
    assert "Trop de codes erronés" in replies[-1], replies[-1]
    # Locked: even the right code is refused for a while, and the participant is not counted.
    reply = texts(join(client, sender, workshop["code"], 1))
    assert "Trop de codes erronés" in reply and "Bienvenue" not in reply, reply
    assert dashboard(client, workshop)["joined"] == PARTICIPANTS


def test_joining_in_the_middle_of_the_questionnaire_resumes_it(client: Client) -> None:
    workshop = open_workshop(client, "Atelier du matin")
    sender = client.new_sender("midway")
    client.say(sender, "/start_diagnostic")
    client.say(sender, payload("actor_type", "association"))
    reply = client.say(sender, payload("size", "benevole"))
    assert asked_position(reply) == "3/13"
    reply = client.say(sender, "j'ai un code d'atelier")
    assert "code de votre atelier" in texts(reply)
    reply = client.say(sender, workshop["code"])
    assert "Bienvenue dans l'atelier « Atelier du matin »" in texts(reply)
    assert asked_position(reply) == "3/13", "the questionnaire resumes where it was"
    assert dashboard(client, workshop)["joined"] == 1


def test_a_code_typed_alone_joins(client: Client) -> None:
    workshop = open_workshop(client, "Atelier de l'après-midi")
    sender = client.new_sender("alone")
    client.say(sender, "bonjour")
    reply = client.say(sender, workshop["code"].lower())
    assert "Bienvenue dans l'atelier « Atelier de l'après-midi »" in texts(reply), texts(reply)
    assert asked_position(reply) == "1/13"
    # In the middle of the questionnaire too: the code is taken, and the same question comes back.
    client.say(sender, payload("actor_type", "association"))
    client.say(sender, payload("size", "benevole"))
    other = open_workshop(client, "Atelier du soir")
    reply = client.say(sender, other["code"])
    assert "Bienvenue dans l'atelier « Atelier du soir »" in texts(reply), texts(reply)
    assert asked_position(reply) == "3/13"


def test_a_closed_workshop_takes_no_one_and_keeps_its_results(client: Client) -> None:
    workshop = open_workshop(client, "Atelier clos")
    participate(client, workshop["code"], 1000)
    token_path = workshop["dashboard_url"].replace("/ateliers/", "/api/ateliers/", 1)
    closed = requests.post(f"{client.web_url}{token_path}/close", timeout=TIMEOUT).json()
    assert closed["closed"] is True and closed["finished"] == 1
    kept = requests.post(f"{client.web_url}{token_path}/keep", json={"keep": True}, timeout=TIMEOUT)
    assert kept.status_code == 200 and kept.json() == {"keep_results": True}
    reply = texts(client.say(client.new_sender("late"), f"le code est {workshop['code']}"))
    assert "ne correspond à aucun atelier ouvert" in reply, reply
    assert dashboard(client, workshop)["joined"] == 1


def test_a_title_is_required(client: Client) -> None:
    response = requests.post(f"{client.web_url}/api/ateliers", json={"title": "   "}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"]
