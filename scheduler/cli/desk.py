"""`visitplan serve` and `users`: the manager's desk on the web and who signs in."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from scheduler import render
from scheduler.accounts import ROLES
from scheduler.accounts import Role as UserRole
from scheduler.cli.calendars import FeedBaseOption, _attribution, _busy_reader, _publisher
from scheduler.cli.clock import now_local, now_utc, today
from scheduler.cli.options import DEFAULT_DB, DbOption, JsonFlag, choice_of
from scheduler.cli.output import err, fail, handled, open_store, out, print_json
from scheduler.store import Store


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    base_url: FeedBaseOption = "http://127.0.0.1:8080",
    feed_rate: Annotated[
        int,
        typer.Option(
            min=0,
            help="Requests a minute one feed URL may make, and at once; 0 for no limit "
            "(when a proxy in front limits already).",
        ),
    ] = 30,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Serve the manager's desk at / and workers' ICS feeds at /feeds/TOKEN.ics.

    Sign-in needs a user (`visitplan users add`). Sessions are signed with
    VISITPLAN_SECRET_KEY (set it so sessions survive a restart); cookies are Secure when the
    --base-url is https. When VISITPLAN_CALDAV_* is configured, calendars are published from
    the desk and re-plan previews plan around commitments in workers' own calendars.
    """
    import uvicorn

    from integrations import FeedParams, FeedServer
    from scheduler.feed_source import StoreFeedSource

    today()  # a malformed VISITPLAN_TODAY exits 2 here, not on the desk's first request
    check_can_listen(host, port)
    with handled():
        store = open_store(db)
    limit = (
        FeedParams(burst=feed_rate, per_minute=feed_rate) if feed_rate else FeedParams(burst=10**9)
    )
    feeds = FeedServer(StoreFeedSource(store), now_utc, limit)
    # The feeds' first version, before the server accepts requests (a mounted app's own
    # lifespan does not run, so the desk's cannot do it).
    feeds.warm()
    feeds.start_watching()  # changes are prepared before the calendars' next poll
    desk = _desk(store, base_url, feeds)
    # No access log: feed URLs carry secret tokens.
    uvicorn.run(desk, host=host, port=port, access_log=False, log_level="info")


def check_can_listen(host: str, port: int) -> None:
    """The desk can listen on `host` and `port`, or a clear message and exit 2 (before the
    store is opened; uvicorn's own message would come later, with exit 3)."""
    import errno
    import socket

    if host.replace(".", "").isdigit() and not _is_ip(host):
        fail(f"--host {host} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)", 2)
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError):
        fail(f"--host {host} is not an address this computer knows", 2)
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is in use: choose another with --port", 2)
            why = exc.strerror or type(exc).__name__
            fail(f"cannot listen on port {port} of {host} ({why}): choose another --host", 2)


def _is_ip(host: str) -> bool:
    """True for an IPv4 or IPv6 address written out."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _desk(store: Store, base_url: str, feeds: Any) -> Any:
    """The desk app wired to the feed server and, when configured, the CalDAV server."""
    import logging
    import os
    import secrets

    from integrations import ConfigError, issue_token, make_app, read_config, revoke_token
    from scheduler.web.app import create_app
    from scheduler.web.context import DeskServices

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secret = os.environ.get("VISITPLAN_SECRET_KEY")
    if not secret:
        secret = secrets.token_urlsafe(32)
        err.print("VISITPLAN_SECRET_KEY is not set: sign-ins last until the server restarts.")
    try:
        read_config()
        publish, busy = _publisher, _busy_reader
    except ConfigError:
        publish, busy = None, None

    def issue(store: Store, worker_id: str, now: datetime, base: str) -> str:
        url = issue_token(store, worker_id, now, base)
        feeds.look_again()  # this process serves the feeds: the URL works at once
        return url

    def revoke(store: Store, worker_id: str, now: datetime) -> bool:
        ended = revoke_token(store, worker_id, now)
        feeds.look_again()  # ... and a revoked one ends at once
        return ended

    # The desk's clock is the command line's (today and audit times on VISITPLAN_TODAY when
    # it is set, for a rehearsal); calendars and feed tokens keep the real time, as
    # `publish` and `feeds issue` do.
    services = DeskServices(issue, revoke, publish, clock=now_utc, busy=busy)
    return create_app(
        store, now_local, secret, services, base_url, make_app(feeds), _attribution(), warm=True
    )


# ------------------------------------------------------------------ desk users

users_app = typer.Typer(no_args_is_help=True, help="People who sign in to the desk (web).")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Sign-in name.")],
    role: Annotated[
        UserRole, typer.Option(parser=choice_of(ROLES), help="admin, manager or worker.")
    ],
    team: Annotated[list[str] | None, typer.Option(help="A team they run (repeatable).")] = None,
    worker: Annotated[str | None, typer.Option(help="The worker id a worker account is.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add someone who signs in to the desk; the password comes from a prompt or
    VISITPLAN_PASSWORD, never from a flag."""
    from scheduler.accounts import add_user

    password = _new_password()
    with handled():
        user = add_user(
            open_store(db, create=True),
            name,
            role,
            password,
            now_utc(),
            tuple(team or ()),
            worker,
        )
    teams = f" of {', '.join(user.teams)}" if user.teams else ""
    out.print(f"Added {user.role} {user.name}{teams}.")


def _new_password() -> str:
    """The new user's password: VISITPLAN_PASSWORD, else asked twice (at the terminal, or
    two lines on standard input); with neither, or the prompt abandoned, a clear error."""
    import getpass
    import os
    import warnings

    given = os.environ.get("VISITPLAN_PASSWORD")
    if given:
        return given
    # With no terminal, getpass says so in a line of its own; its warning adds a file path.
    warnings.simplefilter("ignore", getpass.GetPassWarning)
    try:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))
    except typer.Abort:
        fail(
            "no password given: set VISITPLAN_PASSWORD, or type it when asked; nothing was written",
            2,
        )


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB, as_json: JsonFlag = False) -> None:
    """List the desk's users (never their passwords)."""
    with handled():
        users = open_store(db).user_list()
    if as_json:
        print_json([json.loads(u.model_dump_json()) for u in users])
        return
    out.print(render.render_users(users))


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Sign-in name.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Stop someone signing in; their open sessions end at their next click."""
    from scheduler.accounts import disable_user

    with handled():
        user = disable_user(open_store(db), name)
    out.print(f"Disabled {user.name}.")
