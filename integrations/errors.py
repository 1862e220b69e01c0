"""Errors raised by the integrations package: caldav, HTTP and network failures, wrapped.

VisitplanError
 └── CalendarError        a calendar server or calendar configuration problem
      ├── ConfigError     no CalDAV URL or credentials configured (exit code 2)
      ├── AuthError       the server refused the credentials (401/403)
      ├── UnreachableError the server could not be reached or went away mid-request
      ├── ConflictError   a worker edited or deleted a published event; not overwritten
      └── OutputError     an ICS folder that is a file or cannot be written (exit code 2)
"""

from __future__ import annotations

from scheduler import VisitplanError


class CalendarError(VisitplanError):
    """A calendar server refused or failed a request."""


class ConfigError(CalendarError):
    """No CalDAV server is configured, or the configuration is malformed."""


class AuthError(CalendarError):
    """The CalDAV server refused the credentials."""


class UnreachableError(CalendarError):
    """The CalDAV server could not be reached, or stopped answering."""


class ConflictError(CalendarError):
    """A published event was changed on the server by someone else."""


class OutputError(CalendarError):
    """ICS files cannot be written where asked (a file in the way, no permission)."""
