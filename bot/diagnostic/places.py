"""French places named in a message, their kind and their region (``data/places.yml``).

Two readers use it: the scale of an answer that names a place (« sur Marseille surtout » is a commune,
« dans le Finistère » a département, « en Bretagne » a region, « ds le 59 » a département by its number),
and « des exemples à Brest » when the knowledge base has no example there (the examples of the same region
are offered). A place is read only after a word that introduces one (« à », « en », « dans », « sur »…),
so that « nord » or « somme » in a sentence are not taken for places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.diagnostic.text import normalise
from bot.paths import DATA_DIR

PLACES_FILE = DATA_DIR / "places.yml"
_INTRODUCERS = r"(?:a|en|dans|ds|dans le|ds le|dans la|dans les|dans l|sur|vers|pres de|autour de|du cote de)"
# Places that are also everyday words (« en somme », « une manche », « cher ») need « dans le/la ».
_EVERYDAY_WORDS = frozenset({"nord", "somme", "manche", "cher", "lot", "var", "marne", "orne", "aube", "ain", "eure"})
# « le 59 », « ds le 93 », « dans le 2a »: a département by its number.
_DEPARTEMENT_NUMBER = re.compile(r" (?:le|du|dans le|ds le|sur le|en) (?:0?[1-9]|[1-8]\d|9[0-5]|2a|2b|97[1-6]) ")
# The scale option of each kind of place.
SCALE_OF_KIND = {"city": "local", "departement": "departement", "region": "region", "area": "region"}


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # city, departement, region or area (a former region)
    region: str


@dataclass(frozen=True)
class Places:
    """Normalised place name → the place."""

    places: dict[str, Place]

    def find(self, text: str) -> Place | None:
        """The place ``text`` names after an introducing word (the longest name), or None."""
        padded = f" {normalise(text)} "
        for key in sorted(self.places, key=len, reverse=True):
            introducers = r"dans (?:le|la|les|l)" if key in _EVERYDAY_WORDS else _INTRODUCERS
            if re.search(rf" {introducers} {re.escape(key)} ", padded):
                return self.places[key]
        return None

    def named_in(self, text: str) -> str | None:
        """The written name of the place ``text`` names, or None."""
        place = self.find(text)
        return place.name if place else None

    def region_of(self, name: str) -> str | None:
        place = self.places.get(normalise(name))
        return place.region if place else None

    def scale_in(self, text: str) -> str | None:
        """The scale option the place named in ``text`` stands for, or None."""
        if _DEPARTEMENT_NUMBER.search(f" {normalise(text)} "):
            return "departement"
        place = self.find(text)
        return SCALE_OF_KIND[place.kind] if place else None


@lru_cache(maxsize=1)
def places(path: Path = PLACES_FILE) -> Places:
    """The places of ``data/places.yml`` (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, Place] = {}
    for region in data["regions"]:
        name = region["name"]
        for kind, names in (("city", region.get("cities")), ("departement", region.get("departements")),
                            ("area", region.get("areas")), ("region", [name])):
            for place in names or []:
                found.setdefault(normalise(place), Place(place, kind, name))
    return Places(found)
