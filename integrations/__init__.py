"""CalDAV publishing, ICS files and subscription feeds, on scheduler's domain types."""

from integrations.errors import (
    AuthError,
    CalendarError,
    ConfigError,
    ConflictError,
    UnreachableError,
)

__all__ = [
    "AuthError",
    "CalendarError",
    "ConfigError",
    "ConflictError",
    "UnreachableError",
]
