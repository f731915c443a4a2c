"""The knowledge base: validation on load, coverage checked from the loaded database (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.diagnostic.questionnaire import DEFAULT_PATH, load_questionnaire
from bot.knowledge.model import KNOWLEDGE_DIR, Catalogue, KnowledgeError, load_catalogue
from bot.store.loader import load_catalogue_into_db, load_questionnaire_into_db, read_catalogue
from tests.databases import throwaway_engine


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The catalogue as read back from a database it was loaded into (twice: the load is idempotent)."""
    with throwaway_engine(request.param, tmp_path_factory.mktemp("kb")) as engine:
        questionnaire = load_questionnaire()
        catalogue = load_catalogue(questionnaire)
        for _ in range(2):
            load_questionnaire_into_db(engine, DEFAULT_PATH)
            load_catalogue_into_db(engine, catalogue)
        yield read_catalogue(engine)


def test_minimum_content(loaded: Catalogue) -> None:
    minimums = {"door": 4, "tool": 40, "example": 30, "support_structure": 10, "term": 40, "figure": 25}
    assert {kind: len(loaded.of(kind)) >= minimum for kind, minimum in minimums.items()} == dict.fromkeys(minimums, True)


def test_every_door_has_five_tools_and_five_examples(loaded: Catalogue) -> None:
    for door in ("territoire", "innovation", "salaries", "odd"):
        assert sum(entry.tagged("doors", door) for entry in loaded.of("tool")) >= 5, door
        assert sum(entry.tagged("doors", door) for entry in loaded.of("example")) >= 5, door


def test_every_actor_type_has_three_examples(loaded: Catalogue) -> None:
    for actor in ("association", "entreprise", "collectivite", "fondation", "accompagnement", "autre"):
        assert sum(entry.tagged("actor_types", actor) for entry in loaded.of("example")) >= 3, actor


def test_every_entry_has_a_source_and_the_database_keeps_it(loaded: Catalogue) -> None:
    original = load_catalogue(load_questionnaire())
    for entry in original.all():
        stored = loaded.get(entry.kind, entry.id)
        assert stored is not None and stored.source == entry.source and stored.tags == entry.tags


def test_figures_have_a_value_a_year_and_what_they_measure(loaded: Catalogue) -> None:
    with_year = [entry for entry in loaded.of("figure") if entry.get("year")]
    assert len(with_year) >= 25
    assert all(entry.title and entry.text for entry in loaded.of("figure"))


@pytest.fixture()
def knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def _break(folder: Path, file: str, change) -> None:  # type: ignore[no-untyped-def]
    path = folder / file
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("tools.yml", lambda d: d["tools"][0].update(doors=["nowhere"]), "field 'doors': unknown door id 'nowhere'"),
        ("tools.yml", lambda d: d["tools"][0].pop("source"), "field 'source' is missing"),
        ("examples.yml", lambda d: d["examples"].append(dict(d["examples"][0])), "duplicate id"),
        ("glossary.yml", lambda d: d["glossary"][0].update(source="999_0000000000000000.txt L1"), "unknown seed file"),
        ("figures.yml", lambda d: d["figures"][0].update(source="page 3"), "field 'source': expected"),
        ("examples.yml", lambda d: d["examples"][0].update(actor_types=["martian"]), "unknown actor_type id"),
    ],
)
def test_bad_content_is_refused_naming_file_entry_and_field(knowledge_copy: Path, file: str, change, message: str) -> None:  # type: ignore[no-untyped-def]
    document = yaml.safe_load((knowledge_copy / file).read_text(encoding="utf-8"))
    key = next(iter(k for k in document if isinstance(document[k], list)))
    first_id = document[key][0]["id"]
    _break(knowledge_copy, file, change)
    with pytest.raises(KnowledgeError) as error:
        load_catalogue(load_questionnaire(), knowledge_copy)
    assert file in str(error.value) and message in str(error.value)
    assert f"'{first_id}'" in str(error.value)
