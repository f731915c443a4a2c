"""The inbox (groups, labels), the NLU export (and `rasa data validate` on it), the console password."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.console import inbox, password
from bot.console.__main__ import main
from bot.console.nlu_export import clean_text, export_yaml, training_data
from bot.console.redact import redact
from bot.diagnostic.questionnaire import load_questionnaire
from bot.store.analytics_tables import InboxMessage
from bot.store.db import build_engine, session_scope
from tests import console_seed

ROOT = Path(__file__).resolve().parents[3]
SURVEY = load_questionnaire()
INTENTS = frozenset(training_data().labelling_intents)


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    created = build_engine(f"sqlite:///{tmp_path / 'console.db'}")
    console_seed.create_tables(created)
    console_seed.scripted(created, SURVEY)
    yield created
    created.dispose()


def label(engine: Engine, message_id: int, value: str) -> int:
    with session_scope(engine) as session:
        return inbox.label_group(session, message_id, inbox.parse_label(value, SURVEY, INTENTS))


def test_similar_messages_are_one_group_unlabelled_first(engine: Engine) -> None:
    with session_scope(engine) as session:
        groups = inbox.groups(session)
        assert inbox.counts(session) == (5, 5)
    assert groups[0].count == 2 and groups[0].text == "On est un groupement d'employeurs !"
    assert groups[0].question_id == "actor_type"
    assert label(engine, groups[0].message_id, "ignored") == 2
    with session_scope(engine) as session:
        again = inbox.groups(session)
        assert inbox.counts(session) == (5, 4)
    assert again[-1].message_id == groups[0].message_id and again[-1].label_value == "ignored"
    assert all(group.label_kind is None for group in again[:-1])


def test_labels_are_checked_against_the_questionnaire_and_the_intents() -> None:
    assert inbox.parse_label("answer:actor_type:association", SURVEY, INTENTS).option == "association"
    assert inbox.parse_label("answer:size:nsp", SURVEY, INTENTS).option == "nsp"
    assert inbox.parse_label("intent:greet", SURVEY, INTENTS).intent == "greet"
    for value in ("answer:actor_type:licorne", "answer:nope:association", "intent:inform", "intent:nope", "",
                  "ignored:x", "answer:actor_type"):
        with pytest.raises(inbox.LabelError):
            inbox.parse_label(value, SURVEY, INTENTS)


def test_only_the_label_columns_change(engine: Engine) -> None:
    with session_scope(engine) as session:
        before = {row.id: (row.visitor, row.text, row.group_key, row.question_id, row.reason, row.received_at)
                  for row in session.execute(select(InboxMessage)).scalars()}
        first = inbox.groups(session)[0].message_id
    label(engine, first, "answer:actor_type:accompagnement")
    with session_scope(engine) as session:
        after = {row.id: (row.visitor, row.text, row.group_key, row.question_id, row.reason, row.received_at)
                 for row in session.execute(select(InboxMessage)).scalars()}
        assert inbox.clear_label(session, first) == 2
    assert before == after


def labelled_everything(engine: Engine) -> None:
    with session_scope(engine) as session:
        groups = {group.text: group.message_id for group in inbox.groups(session)}
    label(engine, groups["On est un groupement d'employeurs !"], "answer:actor_type:accompagnement")
    label(engine, groups["on a fait deux trucs avec la mairie"], "answer:experience:ponctuel")
    label(engine, groups["appelez le [numéro masqué]"], "intent:out_of_scope")
    label(engine, groups["écrivez-moi à [adresse e-mail masquée]"], "answer:size:nsp")
    label(engine, groups["<b>gras</b><script>alert(1)</script>"], "ignored")


def test_the_export_puts_each_label_under_the_intent_that_carries_it(engine: Engine) -> None:
    labelled_everything(engine)
    with session_scope(engine) as session:
        result = export_yaml(inbox.labelled_texts(session))
    data = yaml.safe_load(result.yaml_text)
    assert data["version"] == "3.1"
    examples = {item["intent"]: item["examples"].splitlines() for item in data["nlu"]}
    assert examples["inform"] == [
        '- [on est un groupement d\'employeurs]{"entity": "actor_type", "value": "accompagnement"}',
        '- [On est un groupement d\'employeurs !]{"entity": "actor_type", "value": "accompagnement"}']
    assert examples["inform_experience_ponctuel"] == ["- on a fait deux trucs avec la mairie"]
    assert examples["out_of_scope"] == ["- appelez le (numéro masqué)"]
    assert examples["dont_know"] == ["- écrivez-moi à (adresse e-mail masquée)"]
    assert "gras" not in result.yaml_text and result.examples == 5


def test_an_example_already_trained_or_labelled_twice_is_left_out() -> None:
    rows = [("intent", None, None, "greet", "bonjour"), ("intent", None, None, "greet", "salut la compagnie"),
            ("intent", None, None, "thanks", "Salut la  compagnie"), ("answer", "goal", "odd", None, "cap sur les ODD en 2031")]
    result = export_yaml(rows)
    assert result.examples == 1 and "cap sur les ODD en 2031" in result.yaml_text
    assert [reason for _, reason in result.skipped] == ["déjà dans les données d'entraînement",
                                                        "étiqueté de deux façons différentes"]
    assert clean_text("  [a]\n{b} ") == "(a) (b)"


def test_the_export_passes_rasa_data_validate(engine: Engine, tmp_path: Path) -> None:
    labelled_everything(engine)
    with session_scope(engine) as session:
        result = export_yaml(inbox.labelled_texts(session))
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "rasa", data)
    (data / "nlu" / "console_export.yml").write_text(result.yaml_text, encoding="utf-8")
    validate = subprocess.run(
        [str(Path(sys.executable).with_name("rasa")), "data", "validate", "--config", "config.yml", "--domain",
         "domain.yml", "--data", str(data)], check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert validate.returncode == 0, validate.stdout[-3000:] + validate.stderr[-3000:]


def test_the_password_hash_is_salted_slow_and_checked() -> None:
    first, second = password.hash_password("une phrase assez longue"), password.hash_password("une phrase assez longue")
    assert first != second and first.startswith("scrypt:16384:8:1:")
    assert password.verify_password("une phrase assez longue", first)
    assert not password.verify_password("une phrase assez longuE", first)
    assert not password.verify_password("x", None) and not password.verify_password("x", "pbkdf2:1:2")
    for weak in ("court", "aaaaaaaaaaaaaaaa"):
        with pytest.raises(password.WeakPassword):
            password.hash_password(weak)


def test_set_password_writes_the_hash_into_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text("RETENTION_DAYS=90\nADMIN_PASSWORD_HASH=old\n", encoding="utf-8")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("mon mot de passe secret\n"))
    assert main(["set-password", "--env", str(env)]) == 0
    lines = env.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "RETENTION_DAYS=90" and len(lines) == 2
    stored = lines[1].split("=", 1)[1].strip("'")
    assert password.verify_password("mon mot de passe secret", stored)
    assert "mon mot de passe secret" not in env.read_text(encoding="utf-8")
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    from dotenv import dotenv_values
    assert dotenv_values(env)["ADMIN_PASSWORD_HASH"] == stored
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("court\n"))
    assert main(["set-password", "--env", str(env)]) == 1
    assert "au moins 12 caractères" in capsys.readouterr().err


def test_typed_text_is_masked_again_before_it_is_shown() -> None:
    assert redact("jean.dupont+x@mail.example.fr, 06 12 34 56 78, +33 6 12 34 56 78") == (
        "[e-mail masqué], [téléphone masqué], [téléphone masqué]")
    assert redact("SIRET 123 456 789 00012 et 2026") == "SIRET [numéro masqué] et 2026"
    assert redact("on a 40 salariés depuis 2012") == "on a 40 salariés depuis 2012"
