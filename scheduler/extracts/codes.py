"""SSDA903 placement and legal-status codes mapped to visitplan's placement types.

Rule: every 903 placement code has a documented reading (docs/import-ssd.md); a code not
listed here is an input problem (or skipped with --skip-unknown-codes); nothing is guessed.
"""

from __future__ import annotations

from policies import PLACEMENT_TYPES, PlacementType

PLACEMENT_CODES: dict[str, PlacementType] = {
    "U1": "long-term-foster",
    "U4": "long-term-foster",
    "U2": "foster",
    "U3": "foster",
    "U5": "foster",
    "U6": "foster",
    "K1": "residential",
    "K2": "residential",
    "R1": "residential",
    "H5": "residential",
    "S1": "residential",
    "A3": "adoption",
    "A4": "adoption",
    "A5": "adoption",
    "A6": "adoption",
}
READ_AS_RESIDENTIAL: dict[str, str] = {
    "P2": "independent living (a flat, lodgings, bed and breakfast or with friends)",
    "P3": "residential employment",
    "R2": "an NHS or other establishment giving medical or nursing care",
    "R3": "a family centre or mother and baby unit",
    "R5": "a young offender institution or prison",
    "Z1": "another placement on the authority's schedule to the DfE",
}
"""903 codes with no visiting rules of their own in the packs: regulation 28(2) of the Care
Planning Regulations 2010 sets the visits of "any placement", which is what the packs apply to
residential placements (within 1 week, then every 6 weeks); so they are read as residential,
and the import's summary counts them so each can be checked."""
TEMPORARY = frozenset({"T0", "T1", "T2", "T3", "T4"})
"""Temporary moves (hospital, holiday, carers on holiday, 7 days or less): the child is read as
still in the placement they came from, whose start date and postcode are kept."""
PARENTS = "P1"
"""Placed with parents: under an interim care order (C1) or a care order (C2)."""
PARENTS_BY_LEGAL: dict[str, PlacementType] = {
    "C1": "placement-with-parents-ico",
    "C2": "placement-with-parents-care-order",
}
SHORT_BREAKS = frozenset({"V3", "V4"})
"""Legal statuses of short breaks: the placement type is short-breaks whatever the placement."""
CARE_ORDER = "C2"
EXPECTED = (
    "a placement code U1-U6, K1, K2, R1, H5, S1, A3-A6, P2, P3, R2, R3, R5, Z1, P1 (with legal "
    "status C1 or C2), or T0-T4 after another placement"
)


def placement_type(code: str, legal: str) -> PlacementType | str:
    """The placement type of a 903 placement code under a legal status, or why not (text).

    Temporary codes (T0-T4) are not placement types: the caller looks for the placement the
    child came from, and gets this text when there is none.
    """
    if legal in SHORT_BREAKS:
        return "short-breaks"
    if code in PLACEMENT_CODES:
        return PLACEMENT_CODES[code]
    if code in READ_AS_RESIDENTIAL:
        return "residential"
    if code == PARENTS:
        if legal in PARENTS_BY_LEGAL:
            return PARENTS_BY_LEGAL[legal]
        return f"P1 with legal status {legal or '(none)'}: placed with parents needs C1 or C2"
    if code in TEMPORARY:
        return f"{code}, a temporary move with no earlier placement to return to"
    return repr(code) if code else "nothing"


_BY_NAME: dict[str, PlacementType] = {kind: kind for kind in PLACEMENT_TYPES}


def known_placement_type(found: str) -> PlacementType | None:
    """`found` (from `placement_type`) as a placement type, or None when it says why not."""
    return _BY_NAME.get(found)


def reading_of(code: str) -> str | None:
    """How a code with no rules of its own was read, for the import's summary; None if direct."""
    if code in READ_AS_RESIDENTIAL:
        return f"{code} ({READ_AS_RESIDENTIAL[code]}) read as residential"
    if code in TEMPORARY:
        return f"{code} (a temporary move) read as the placement the child came from"
    return None
