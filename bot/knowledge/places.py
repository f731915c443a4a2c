"""French places named in a question, and the region each belongs to (``data/places.yml``).

« des exemples à Brest »: when the knowledge base has no example there, the assistant says so and offers
the examples of the same region. A place is read only after a word that introduces one (« à », « en »,
« dans », « sur », « près de »…), so that « nord » or « somme » in a sentence are not taken for places.
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
_INTRODUCERS = r"(?:a|en|dans|dans le|dans la|dans les|dans l|sur|vers|pres de|autour de|du cote de)"
# Places that are also everyday words (« en somme », « une manche », « cher ») need « dans le/la ».
_EVERYDAY_WORDS = frozenset({"nord", "somme", "manche", "cher", "lot", "var", "marne", "orne", "aube", "ain", "eure"})


@dataclass(frozen=True)
class Places:
    """Normalised place name → (its written name, its region)."""

    regions: dict[str, tuple[str, str]]

    def named_in(self, text: str) -> str | None:
        """The written name of the place ``text`` names after an introducing word (the longest), or None."""
        padded = f" {normalise(text)} "
        for place in sorted(self.regions, key=len, reverse=True):
            introducers = r"dans (?:le|la|les|l)" if place in _EVERYDAY_WORDS else _INTRODUCERS
            if re.search(rf" {introducers} {re.escape(place)} ", padded):
                return self.regions[place][0]
        return None

    def region_of(self, place: str) -> str | None:
        found = self.regions.get(normalise(place))
        return found[1] if found else None


@lru_cache(maxsize=1)
def places(path: Path = PLACES_FILE) -> Places:
    """The places of ``data/places.yml`` (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    regions: dict[str, tuple[str, str]] = {}
    for region in data["regions"]:
        regions[normalise(region["name"])] = (region["name"], region["name"])
        for place in region["places"]:
            regions[normalise(place)] = (place, region["name"])
    return Places(regions)
