"""The knowledge base: validation on load, coverage checked from the loaded database (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.diagnostic.questionnaire import DEFAULT_PATH, load_questionnaire
from bot.knowledge.model import KNOWLEDGE_DIR, Catalogue, Entry, KnowledgeError, load_catalogue
from bot.store.loader import load_catalogue_into_db, load_questionnaire_into_db, read_catalogue
from tests.databases import throwaway_engine

LEVELS = ("decouverte", "habitude", "aguerri", "moteur")
DIMENSIONS = ("experience", "organisation", "evaluation", "moyens")


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
    minimums = {"door": 4, "tool": 40, "example": 30, "support_structure": 10, "term": 40, "figure": 25, "step": 20}
    assert {kind: len(loaded.of(kind)) >= minimum for kind, minimum in minimums.items()} == dict.fromkeys(minimums, True)


def _recommendable(catalogue: Catalogue, kind: str) -> list[Entry]:
    return [entry for entry in catalogue.of(kind) if entry.recommendable]


def test_every_door_has_five_tools_and_five_examples(loaded: Catalogue) -> None:
    for door in ("territoire", "innovation", "salaries", "odd"):
        assert sum(entry.tagged("doors", door) for entry in _recommendable(loaded, "tool")) >= 5, door
        assert sum(entry.tagged("doors", door) for entry in _recommendable(loaded, "example")) >= 5, door


def test_every_actor_type_has_three_examples(loaded: Catalogue) -> None:
    for actor in ("association", "entreprise", "collectivite", "fondation", "accompagnement", "autre"):
        assert sum(entry.tagged("actor_types", actor) for entry in _recommendable(loaded, "example")) >= 3, actor


def test_every_tool_has_dimensions_and_each_dimension_has_tools(loaded: Catalogue) -> None:
    assert [entry.id for entry in loaded.of("tool") if not entry.tags.get("dimensions")] == []
    for dimension in DIMENSIONS:
        assert sum(entry.tagged("dimensions", dimension) for entry in _recommendable(loaded, "tool")) >= 5, dimension


def test_no_id_is_both_a_tool_and_an_example(loaded: Catalogue) -> None:
    tools = {entry.id for entry in loaded.of("tool")}
    assert sorted(tools & {entry.id for entry in loaded.of("example")}) == []


def test_references_are_marked_and_the_others_have_a_short_summary(loaded: Catalogue) -> None:
    references = {entry.id for kind in ("tool", "example") for entry in loaded.of(kind) if not entry.recommendable}
    assert {"programme_actions_21_mesures", "proposition_loi_droit_alliance_interet_general", "loi_ess_2014",
            "colloque_odd17_impacts_faire_alliance_2022", "fonds_odd17",
            "mission_ministerielle_alliances_strategiques"} <= references
    for kind in ("tool", "example", "support_structure"):
        for entry in _recommendable(loaded, kind):
            summary = entry.get("summary")
            assert isinstance(summary, str) and 0 < len(summary) <= 150 and "\n" not in summary, (kind, entry.id)


def test_every_level_and_dimension_has_two_steps_with_recommendable_tools(loaded: Catalogue) -> None:
    tools = {entry.id: entry for entry in loaded.of("tool")}
    steps = loaded.of("step")
    assert 20 <= len(steps) <= 35
    for step in steps:
        assert 1 <= len(step.get("tools")) <= 3 and all(tools[tool_id].recommendable for tool_id in step.get("tools"))
        assert len(step.title) <= 70
    for level in LEVELS:
        for dimension in DIMENSIONS:
            fitting = [step.id for step in steps if step.tagged("levels", level) and step.tagged("dimensions", dimension)]
            assert len(fitting) >= 2, (level, dimension, fitting)


def test_a_reference_is_never_a_step_tool(loaded: Catalogue) -> None:
    references = {entry.id for entry in loaded.of("tool") if not entry.recommendable}
    assert references and all(not set(step.get("tools")) & references for step in loaded.of("step"))


def _covers(entry: Entry, *lines: int) -> bool:
    return all(entry.source.start <= line <= entry.source.end for line in lines)


def test_five_corrections_against_their_seed(loaded: Catalogue) -> None:
    aidants = loaded.get("example", "solidaires_des_aidants")
    assert aidants is not None and "participent directement à sa coordination" in aidants.text
    assert "assurée directement" not in aidants.text and "AG2R LA MONDIALE" not in (aidants.get("members") or [])
    penates = loaded.get("example", "penates_et_cite")
    assert penates is not None and "AG2R LA MONDIALE" not in (penates.get("members") or [])
    # seed 003: publisher of the citizens' study at L2356-2357, its synthesis URL at L2392;
    # « Exemples inspirants (sur la base IMPACT-Alliances) » at L2350, its URL at L2391, « est ou sera disponible » L1005
    citizens = loaded.get("tool", "etude_impact_citoyens_2022")
    assert citizens is not None and _covers(citizens, 2356, 2357, 2392)
    base = loaded.get("tool", "base_impact_alliances")
    assert base is not None and _covers(base, 1005, 2350, 2391)
    assert "est ou y sera disponible" in base.text and "On y trouve" not in base.text
    devoir = loaded.get("term", "devoir_d_alliance")
    assert devoir is not None and "longtemps" not in devoir.text


def test_every_entry_has_a_source_and_the_database_keeps_it(loaded: Catalogue) -> None:
    original = load_catalogue(load_questionnaire())
    for entry in original.all():
        stored = loaded.get(entry.kind, entry.id)
        assert stored is not None and stored.source == entry.source and stored.tags == entry.tags


def test_figures_have_a_value_a_year_and_what_they_measure(loaded: Catalogue) -> None:
    with_year = [entry for entry in loaded.of("figure") if entry.get("year")]
    assert len(with_year) >= 25
    assert all(entry.title and entry.text for entry in loaded.of("figure"))


def _entry(title: str, **fields: object) -> Entry:
    return Entry("tool", "t", title, "texte", next(iter(load_catalogue(load_questionnaire()).all())).source, {}, fields)


def test_a_long_title_is_also_named_by_its_distinctive_parts() -> None:
    mooc = _entry("MOOC « Les partenariats qui changent le monde : alliances innovantes »")
    assert "Les partenariats qui changent le monde : alliances innovantes" in mooc.names
    # A quoted subject (« faire alliance », a door's name) names a whole subject, not this one entry.
    assert _entry("Kit méthodologique sur le « faire alliance »").names == ("Kit méthodologique sur le « faire alliance »",)
    assert "Co-construction territoriale" not in _entry("Boîte à outils « Co-construction territoriale »").names
    # An acronym names its entry, and so do the words it stands for; a bracketed place or year does not.
    assert {"RNMA", "Réseau national des maisons des associations"} <= set(
        _entry("Réseau national des maisons des associations (RNMA)").names)
    assert "DJEPVA" in _entry("DJEPVA (Direction de la jeunesse)").names
    assert "2019" not in _entry("Étude IMPACT-Citoyens (2019)").names
    assert "Le kit" in _entry("Kit « l'ODD 17 en pratique »", aliases=["Le kit"]).names


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
        ("tools.yml", lambda d: d["tools"][0].update(dimensions=["bonheur"]), "unknown dimension id 'bonheur'"),
        ("tools.yml", lambda d: d["tools"][0].pop("dimensions"), "field 'dimensions' needs at least one id"),
        ("tools.yml", lambda d: d["tools"][0].update(role="archive"), "field 'role': expected one of"),
        ("tools.yml", lambda d: d["tools"][0].pop("summary"), "field 'summary' is missing"),
        ("examples.yml", lambda d: d["examples"][0].update(summary="x" * 151), "field 'summary': 151 characters"),
        ("support_structures.yml", lambda d: d["support_structures"][0].pop("summary"), "field 'summary' is missing"),
        ("steps.yml", lambda d: d["steps"][0].update(tools=["programme_impact"]), "'programme_impact' is a reference"),
        ("steps.yml", lambda d: d["steps"][0].update(tools=["nowhere"]), "field 'tools': unknown tool id 'nowhere'"),
        ("steps.yml", lambda d: d["steps"][0].update(levels=["expert"]), "unknown level id 'expert'"),
        ("steps.yml", lambda d: d["steps"][0].update(source="003 L2020"), "field 'source': expected"),
        ("tools.yml", lambda d: d["tools"][0].update(aliases="le kit"), "field 'aliases': expected a list of names"),
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
