"""CalDAV publishing, ICS files and subscription feeds, on scheduler's domain types.

Other packages import from here: what `__all__` lists is the integrations' public face.
"""

from integrations.dav import DavConfig, busy_for_scenario, connect, fetch_busy, read_config
from integrations.errors import (
    AuthError,
    CalendarError,
    ConfigError,
    ConflictError,
    OutputError,
    UnreachableError,
)
from integrations.events import EventContext, Lookups
from integrations.feeds import (
    FeedInputs,
    FeedParams,
    FeedServer,
    FeedSource,
    issue_token,
    make_app,
    revoke_token,
)
from integrations.ics import write_ics
from integrations.ledger import Ledger, on_calendars
from integrations.publish import PublishReport, Resolution, publish_plan

__all__ = [
    "AuthError",
    "CalendarError",
    "ConfigError",
    "ConflictError",
    "DavConfig",
    "EventContext",
    "FeedInputs",
    "FeedParams",
    "FeedServer",
    "FeedSource",
    "Ledger",
    "Lookups",
    "OutputError",
    "PublishReport",
    "Resolution",
    "UnreachableError",
    "busy_for_scenario",
    "connect",
    "fetch_busy",
    "issue_token",
    "make_app",
    "on_calendars",
    "publish_plan",
    "read_config",
    "revoke_token",
    "write_ics",
]
