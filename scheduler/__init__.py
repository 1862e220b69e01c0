"""visitplan scheduler: domain, calendar, due engine, checker, store, service and CLI."""
