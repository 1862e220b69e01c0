"""The `visitplan` command line: the composition root (clock, environment, store, wiring).

The app lives in `app`; each command family in its own module. The top-level commands and
the command groups are registered here, in the order `visitplan --help` lists them.
"""

from __future__ import annotations

from scheduler.cli import (
    calendars,
    caseload,
    desk,
    imports,
    planning,
    policies,
    publishing,
    recording,
)
from scheduler.cli.app import app, main

app.command()(caseload.schema)
app.command()(imports.load)
app.command()(caseload.due)
app.command("due-date")(policies.due_date)
app.command()(recording.record)
app.command()(planning.generate)
app.command()(planning.check)
app.command()(planning.demo)
app.command("export-ics")(calendars.export_ics)
app.command()(publishing.publish)
app.command()(desk.serve)
app.command()(planning.replan)
app.command()(caseload.history)
app.add_typer(policies.policies_app, name="policies")
app.add_typer(caseload.child_app, name="child")
app.add_typer(caseload.absence_app, name="absence")
app.add_typer(imports.terms_app, name="terms")
app.add_typer(imports.import_app, name="import")
app.add_typer(planning.plan_app, name="plan")
app.add_typer(calendars.feeds_app, name="feeds")
app.add_typer(planning.visit_app, name="visit")
app.add_typer(caseload.workers_app, name="workers")
app.add_typer(desk.users_app, name="users")

__all__ = ["app", "main"]
