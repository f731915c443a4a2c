"""The knowledge base: doors, tools, examples, support structures, glossary, key figures and action steps.

The content is curated YAML under ``data/knowledge/`` (one file per kind), every
entry with its ``source`` (seed file and line range). :func:`load_catalogue`
reads and validates it; every problem raises :class:`KnowledgeError` naming the
file, the entry and the field (unknown door id, missing source, duplicate id…).
Tag vocabularies (doors, actor types, themes, scales, levels, dimensions) are the
ids of the questionnaire, so a tag can only be what a diagnostic can produce.
A tool or an example with ``role: reference`` (a policy mission, a funding
programme, a past event, a law) answers knowledge questions but is never
recommended; the others carry a one-sentence ``summary``. Each action step names
the recommendable tools that serve it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.diagnostic.questionnaire import Questionnaire
from bot.paths import DATA_DIR, REPO_ROOT

KNOWLEDGE_DIR = DATA_DIR / "knowledge"
SEED_FILES = (
    "000_11667b14a954d73c.txt",
    "001_11850d2bd037f9ac.txt",
    "002_fe928f2ef29c72c0.txt",
    "003_b1bff007016ee30f.txt",
    "004_ae020736358247a1.txt",
)
_SOURCE = re.compile(r"^(?P<file>\d{3}_[0-9a-f]{16}\.txt) L(?P<start>\d+)(?:-(?P<end>\d+))?$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
TAG_FIELDS = ("doors", "actor_types", "themes", "scale", "levels")
ROLES = ("reference",)
SUMMARY_MAX = 150
STEP_TITLE_MAX = 70
STEP_TOOLS = (1, 3)
_QUOTED = re.compile(r"«\s*([^«»]{4,}?)\s*»")
_BRACKETED = re.compile(r"\(([^()]{2,})\)")
_BRACKETED_PART = re.compile(r"\s*\([^()]*\)")
_ACRONYM = re.compile(r"^[A-ZÉ][A-ZÉ0-9]{1,9}$")
# Words that do not tell one entry from another: a quoted name needs three others to name its entry alone
# (« faire alliance » or « Co-construction territoriale » name a whole subject, not one tool).
_COMMON_WORDS = frozenset([
    "l", "la", "le", "les", "de", "du", "des", "d", "un", "une", "et", "à", "au", "aux", "en", "pour", "sur",
    "&", "-", ":", "?", "!", "quel", "quels", "quelle", "quelles",
    "outil", "outils", "alliance", "alliances", "partenariat", "partenariats", "faire",
])


def _distinctive(name: str) -> bool:
    words = [word for word in re.split(r"[\s']+", name.lower()) if word and word not in _COMMON_WORDS]
    return len(words) >= 3  # a step names between 1 and 3 tools


class KnowledgeError(ValueError):
    """The knowledge content is invalid; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: a seed file and a line range."""

    file: str
    start: int
    end: int

    def __str__(self) -> str:
        lines = f"L{self.start}" if self.start == self.end else f"L{self.start}-{self.end}"
        return f"{self.file} {lines}"


@dataclass(frozen=True)
class Entry:
    """One item of the knowledge base (tool, example, support structure, term, figure or door)."""

    kind: str
    id: str
    title: str
    text: str
    source: Source
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)

    def tagged(self, tag_field: str, value: str) -> bool:
        return value in self.tags.get(tag_field, ())

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    @property
    def names(self) -> tuple[str, ...]:
        """Every way the entry may be named: its title, its ``aliases``, and the shorter names its title holds,
        since people name a long title by a part of it: a distinctive quoted name (« Les partenariats qui
        changent le monde » for the MOOC), an acronym in brackets or the words an acronym stands for (« RNMA »),
        the title without its brackets."""
        names = [self.title, *(self.get("aliases") or [])]
        names += [quoted for quoted in _QUOTED.findall(self.title) if _distinctive(quoted)]
        for bracketed in _BRACKETED.findall(self.title):
            outside = _BRACKETED_PART.sub("", self.title).strip()
            if _ACRONYM.match(bracketed) or _ACRONYM.match(outside):
                names.append(bracketed)
            names.append(outside)
        return tuple(dict.fromkeys(name.strip() for name in names if name.strip()))

    @property
    def recommendable(self) -> bool:
        """False for a reference (``role: reference``): it answers questions but is never recommended."""
        return self.get("role") not in ROLES


@dataclass(frozen=True)
class KindSpec:
    """How one file of data/knowledge is read."""

    kind: str  # singular, used in messages and in the database
    file: str
    key: str
    title_field: str
    text_field: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    tag_fields: tuple[str, ...] = ()
    required_tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    max_lengths: tuple[tuple[str, int], ...] = ()  # text fields with a maximum length in characters
    needs_summary: bool = False  # a ``summary`` is required unless the entry is a reference


SPECS = (
    KindSpec("door", "doors.yml", "doors", "label", "description",
             ("id", "label", "description", "suits", "toolbox", "objective", "source"), ("missing",)),
    KindSpec("tool", "tools.yml", "tools", "name", "description", ("id", "name", "kind", "description", "source"),
             ("publisher", "year", "url", "role", "summary", "aliases"), (*TAG_FIELDS, "dimensions"), ("doors", "dimensions"),
             ("toolbox", "guide", "kit", "mooc", "training", "study", "report", "platform", "fund", "charter", "law",
              "programme", "observatory", "event", "method"), (("summary", SUMMARY_MAX),), True),
    KindSpec("example", "examples.yml", "examples", "name", "description", ("id", "name", "description", "source"),
             ("members", "territory", "places", "year", "figures", "url", "role", "summary", "aliases"), TAG_FIELDS,
             ("doors", "actor_types"), (), (("summary", SUMMARY_MAX),), True),
    KindSpec("support_structure", "support_structures.yml", "support_structures", "name", "description",
             ("id", "name", "kind", "description", "source"), ("helps", "publisher", "url", "year", "summary", "aliases"),
             TAG_FIELDS, (), ("network", "support_body", "funder", "public_body", "platform"),
             (("summary", SUMMARY_MAX),), True),
    KindSpec("term", "glossary.yml", "glossary", "term", "definition", ("id", "term", "definition", "source"),
             ("aliases",)),
    KindSpec("figure", "figures.yml", "figures", "value", "measures", ("id", "value", "measures", "source"),
             ("unit", "year", "study", "about")),
    KindSpec("step", "steps.yml", "steps", "title", "text", ("id", "title", "text", "tools", "source"), (),
             ("levels", "dimensions"), ("levels", "dimensions"), (), (("title", STEP_TITLE_MAX),)),
)  # fmt: skip


@dataclass(frozen=True)
class Catalogue:
    """Every entry of the knowledge base, by kind, in file order."""

    entries: Mapping[str, tuple[Entry, ...]]

    def of(self, kind: str) -> tuple[Entry, ...]:
        return self.entries.get(kind, ())

    def get(self, kind: str, entry_id: str) -> Entry | None:
        return next((entry for entry in self.of(kind) if entry.id == entry_id), None)

    def all(self) -> Iterable[Entry]:
        for entries in self.entries.values():
            yield from entries


def vocabularies(questionnaire: Questionnaire) -> dict[str, frozenset[str]]:
    """The allowed tag values: the ids a diagnostic can produce."""
    return {
        "doors": frozenset(door.id for door in questionnaire.doors),
        "actor_types": frozenset(questionnaire.question("actor_type").option_ids),
        "helps": frozenset(questionnaire.question("actor_type").option_ids),
        "themes": frozenset(questionnaire.question("theme").option_ids),
        "scale": frozenset(questionnaire.question("scale").option_ids),
        "levels": frozenset(level.id for level in questionnaire.levels),
        "dimensions": frozenset(dimension.id for dimension in questionnaire.dimensions),
    }


class _Reader:
    def __init__(self, spec: KindSpec, file_label: str, allowed: Mapping[str, frozenset[str]]) -> None:
        self.spec = spec
        self.file_label = file_label
        self.allowed = allowed

    def fail(self, entry: str, message: str) -> KnowledgeError:
        return KnowledgeError(f"{self.file_label}: {self.spec.kind} '{entry}': {message}")

    def source(self, entry_id: str, value: object) -> Source:
        match = _SOURCE.match(str(value)) if isinstance(value, str) else None
        if match is None:
            raise self.fail(entry_id, f"field 'source': expected '<seed file> L<start>-<end>', got {value!r}")
        if match["file"] not in SEED_FILES:
            raise self.fail(entry_id, f"field 'source': unknown seed file {match['file']!r}")
        start = int(match["start"])
        end = int(match["end"] or start)
        if end < start:
            raise self.fail(entry_id, f"field 'source': line range {start}-{end} is reversed")
        return Source(match["file"], start, end)

    def entry(self, raw: object, position: int) -> Entry:
        spec = self.spec
        if not isinstance(raw, Mapping):
            raise self.fail(f"#{position + 1}", "expected a mapping")
        entry_id = raw.get("id")
        if not isinstance(entry_id, str) or not _ID.match(entry_id):
            raise self.fail(f"#{position + 1}", f"field 'id': expected a snake_case id, got {entry_id!r}")
        known = set(spec.required) | set(spec.optional) | set(spec.tag_fields)
        for name in raw:
            if name not in known:
                raise self.fail(entry_id, f"unknown field '{name}'")
        for name in spec.required:
            value = raw.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise self.fail(entry_id, f"field '{name}' is missing")
        if spec.kinds and raw["kind"] not in spec.kinds:
            raise self.fail(entry_id, f"field 'kind': unknown kind {raw['kind']!r}")
        tags: dict[str, tuple[str, ...]] = {}
        for name in (*spec.tag_fields, "helps"):
            if name not in raw:
                continue
            values = raw[name]
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                raise self.fail(entry_id, f"field '{name}': expected a list of ids")
            for value in values:
                if value not in self.allowed[name]:
                    raise self.fail(entry_id, f"field '{name}': unknown {name.rstrip('s')} id {value!r}")
            tags[name] = tuple(values)
        for name in spec.required_tags:
            if not tags.get(name):
                raise self.fail(entry_id, f"field '{name}' needs at least one id")
        self.check_field_values(entry_id, raw)
        plain = {key: value for key, value in raw.items() if key not in (*spec.tag_fields, "source")}
        return Entry(
            kind=spec.kind,
            id=entry_id,
            title=str(raw[spec.title_field]).strip(),
            text=" ".join(str(raw[spec.text_field]).split()),
            source=self.source(entry_id, raw.get("source")),
            tags=tags,
            fields=plain,
        )

    def check_field_values(self, entry_id: str, raw: Mapping[str, Any]) -> None:
        """``role``, ``summary``, ``url``, the length limits and a step's ``tools``."""
        spec = self.spec
        role = raw.get("role")
        if "role" in raw and role not in ROLES:
            raise self.fail(entry_id, f"field 'role': expected one of {list(ROLES)}, got {role!r}")
        for name, maximum in spec.max_lengths:
            if name not in raw:
                continue
            value = raw[name]
            if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
                raise self.fail(entry_id, f"field '{name}': expected one line of text, got {value!r}")
            if len(value.strip()) > maximum:
                raise self.fail(entry_id, f"field '{name}': {len(value.strip())} characters, at most {maximum}")
        if spec.needs_summary and role not in ROLES and "summary" not in raw:
            raise self.fail(entry_id, "field 'summary' is missing")
        aliases = raw.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(alias, str) and alias.strip() for alias in aliases):
            raise self.fail(entry_id, f"field 'aliases': expected a list of names, got {aliases!r}")
        if "url" in raw and (not isinstance(raw["url"], str) or not raw["url"] or any(c.isspace() for c in raw["url"])):
            raise self.fail(entry_id, f"field 'url': expected an address without spaces, got {raw['url']!r}")
        if spec.kind == "step":
            tools = raw.get("tools")
            low, high = STEP_TOOLS
            if not isinstance(tools, list) or not all(isinstance(item, str) for item in tools):
                raise self.fail(entry_id, "field 'tools': expected a list of tool ids")
            if not low <= len(tools) <= high or len(set(tools)) != len(tools):
                raise self.fail(entry_id, f"field 'tools': expected {low} to {high} different tool ids, got {tools}")

    def check_step_tools(self, steps: Iterable[Entry], tools: Mapping[str, Entry]) -> None:
        """Every tool a step names exists in tools.yml and is not a reference."""
        for step in steps:
            for tool_id in step.get("tools"):
                tool = tools.get(tool_id)
                if tool is None:
                    raise self.fail(step.id, f"field 'tools': unknown tool id {tool_id!r}")
                if not tool.recommendable:
                    raise self.fail(step.id, f"field 'tools': tool {tool_id!r} is a reference, not a tool to act with")

    def read(self, document: object) -> tuple[Entry, ...]:
        if not isinstance(document, Mapping) or not isinstance(document.get(self.spec.key), list):
            raise KnowledgeError(f"{self.file_label}: expected a top-level list '{self.spec.key}'")
        entries = [self.entry(raw, position) for position, raw in enumerate(document[self.spec.key])]
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise self.fail(entry.id, "duplicate id")
            seen.add(entry.id)
        return tuple(entries)


def load_catalogue(questionnaire: Questionnaire, directory: Path = KNOWLEDGE_DIR) -> Catalogue:
    """Read and validate every knowledge file of ``directory``."""
    allowed = vocabularies(questionnaire)
    entries: dict[str, tuple[Entry, ...]] = {}
    readers: dict[str, _Reader] = {}
    for spec in SPECS:
        path = directory / spec.file
        try:
            label = path.resolve().relative_to(REPO_ROOT).as_posix()
        except ValueError:
            label = str(path)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise KnowledgeError(f"{label}: cannot read file: {error.strerror or error}") from error
        except yaml.YAMLError as error:
            raise KnowledgeError(f"{label}: invalid YAML: {error}") from error
        readers[spec.kind] = _Reader(spec, label, allowed)
        entries[spec.kind] = readers[spec.kind].read(document)
    readers["step"].check_step_tools(entries["step"], {entry.id: entry for entry in entries["tool"]})
    doors = {entry.id for entry in entries["door"]}
    if doors != allowed["doors"]:
        raise KnowledgeError(f"data/knowledge/doors.yml: expected the doors {sorted(allowed['doors'])}, got {sorted(doors)}")
    return Catalogue(entries)
