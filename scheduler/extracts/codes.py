"""SSDA903 placement and legal-status codes mapped to visitplan's placement types.

Rule: codes not listed here are input problems; nothing is guessed.
"""

from __future__ import annotations

from policies.models import PlacementType

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
PARENTS = "P1"
"""Placed with parents: under an interim care order (C1) or a care order (C2)."""
PARENTS_BY_LEGAL: dict[str, PlacementType] = {
    "C1": "placement-with-parents-ico",
    "C2": "placement-with-parents-care-order",
}
SHORT_BREAKS = frozenset({"V3", "V4"})
"""Legal statuses of short breaks: the placement type is short-breaks whatever the placement."""
NOT_PLANNED = frozenset({"P2", "P3", "R2", "R3", "R5", "T0", "T1", "T2", "T3", "T4", "Z1"})
"""Known 903 codes with no visiting rules in visitplan yet (independent living, hospital ...)."""
CARE_ORDER = "C2"
EXPECTED = "a placement code U1-U6, K1, K2, R1, H5, S1, A3-A6 or P1 (with legal status C1 or C2)"


def placement_type(code: str, legal: str) -> PlacementType | str:
    """The placement type of a 903 placement code under a legal status, or why not (text)."""
    if legal in SHORT_BREAKS:
        return "short-breaks"
    if code in PLACEMENT_CODES:
        return PLACEMENT_CODES[code]
    if code == PARENTS:
        if legal in PARENTS_BY_LEGAL:
            return PARENTS_BY_LEGAL[legal]
        return f"P1 with legal status {legal or '(none)'}: placed with parents needs C1 or C2"
    if code in NOT_PLANNED:
        return f"{code}, a placement with no visiting rules in visitplan yet"
    return repr(code) if code else "nothing"
