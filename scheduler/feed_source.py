"""What the calendar integrations need from the scheduler side: events' wording built from the
pack and the records, and the feed server's view of the store (a cheap change stamp, the live
tokens, and the inputs feeds are rendered from).

Rule: the integrations import no policy pack and no store; this module hands them both, as
plain values and as the `FeedSource` Protocol they declare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from integrations import EventContext, FeedInputs, Lookups
from scheduler.domain import LedgerEntry, Scenario, Visit
from scheduler.errors import StoreError
from scheduler.index import index_of
from scheduler.reports import rule_titles
from scheduler.store import Store, feed_tokens_table, ledger_table


def event_context(scenario: Scenario, closed_refs: Mapping[str, str] | None = None) -> EventContext:
    """The wording of a scenario's events: its pack's rule titles and its visit records, and
    the case references of closed children visits still name (`closed_refs`).

    Raises:
        PackNotFoundError: the scenario's authority has no pack.
    """
    index = index_of(scenario)
    found = Lookups(index.children, index.households, index.workers)
    return EventContext(
        rule_titles(scenario.authority.id), scenario.records, found, closed_refs or {}
    )


def store_event_context(store: Store, scenario: Scenario, visits: Sequence[Visit]) -> EventContext:
    """The wording of the events of `visits`, read from the store: as `event_context`, with
    the closed children the visits still name (a visit made before the case closed, or one
    cancelled by the closing) by case reference, and their records at these visits (the
    scenario holds open children's only), as `plan show` names and states them.

    Raises:
        PackNotFoundError: the scenario's authority has no pack.
        StoreError: the database cannot be read.
    """
    closed = store.closed_case_refs()
    context = event_context(scenario, closed)
    naming = [v.id for v in visits if not closed.keys().isdisjoint(v.child_ids)]
    if not naming:
        return context
    found = store.records_for_visits(naming)
    theirs = [r for records in found.values() for r in records if r.child_id in closed]
    return replace(context, records=(*context.records, *theirs))


class StoreFeedSource:
    """The feed server's `FeedSource`, on a store."""

    def __init__(self, store: Store) -> None:
        """A source reading `store`."""
        self.store = store

    def stamp(self) -> str:
        """The store's revision (it grows with every change to the caseload, the records and
        the plan) and the count of issued and of revoked feed tokens (tokens are never deleted,
        so both only grow). The ledger is left out: the feeds write it themselves, and what
        others write there (ETags, server statuses) does not change a feed.

        Raises:
            StoreError: the database cannot be read.
        """
        table = feed_tokens_table
        counts = select(func.count(), func.count(table.c.revoked_at)).select_from(table)
        revision = self.store.revision()
        try:
            with self.store.engine.connect() as conn:
                issued, revoked = conn.execute(counts).one()
        except SQLAlchemyError as exc:
            raise StoreError(f"the feed tokens cannot be read ({type(exc).__name__})") from None
        return f"{revision}:{issued}:{revoked}"

    def live_tokens(self) -> dict[str, str]:
        """Every live token hash with its worker (one query; the store has no such method).

        Raises:
            StoreError: the database cannot be read.
        """
        table = feed_tokens_table
        query = select(table.c.token_hash, table.c.worker_id).where(table.c.revoked_at.is_(None))
        try:
            with self.store.engine.connect() as conn:
                return {row.token_hash: row.worker_id for row in conn.execute(query)}
        except SQLAlchemyError as exc:
            kind = type(exc).__name__
            raise StoreError(f"the feed tokens cannot be read ({kind})") from None

    def inputs(self) -> FeedInputs:
        """The caseload, the current plan's visits, and the events' wording."""
        scenario = self.store.read_scenario()
        plan = self.store.current_plan()
        visits = plan.visits if plan else ()
        return FeedInputs(scenario, visits, store_event_context(self.store, scenario, visits))

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        """The calendar ledger."""
        return self.store.ledger_all(worker_id)

    def ledger_put(self, entry: LedgerEntry) -> None:
        """Record a revision."""
        self.store.ledger_put(entry)

    def ledger_put_many(self, entries: Sequence[LedgerEntry]) -> None:
        """Record many revisions in one transaction (a feed rebuild after a new plan writes
        thousands; one commit each took a minute on L).

        TODO(issue 11): move into the store as `Store.ledger_put_many` once its write paths
        settle; this is `Store.ledger_put` for many rows.

        Raises:
            StoreError: the database refused the write; nothing was written.
        """
        uids = [e.uid for e in entries]
        rows = [
            {"uid": e.uid, "worker_id": e.worker_id, "data": e.model_dump_json()} for e in entries
        ]
        try:
            with self.store.engine.begin() as conn:
                for start in range(0, len(uids), 500):
                    chunk = uids[start : start + 500]
                    conn.execute(delete(ledger_table).where(ledger_table.c.uid.in_(chunk)))
                if rows:
                    conn.execute(insert(ledger_table), rows)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"the calendar ledger cannot be written ({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        """Nothing is held between calls; kept so callers can close any source alike."""
