"""Errors raised by the policies package.

PolicyError
 ├── PackNotFoundError   no pack with that id
 ├── PackInvalidError    a pack file breaks the schema or its inheritance
 └── OverrideError       a per-child override would loosen a rule
"""

from __future__ import annotations


class PolicyError(Exception):
    """Base of every policy error."""


class PackNotFoundError(PolicyError):
    """No pack with the requested id."""


class PackInvalidError(PolicyError):
    """A pack file does not parse, breaks the schema, or extends a pack badly."""


class OverrideError(PolicyError):
    """A per-child override is not a tightening of the rule it names."""
