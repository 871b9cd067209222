"""The compliance overview's tally (app/models/tally.py): kept in step with the cases on every flush.

Why a flush hook and not the clock alone: the tally must follow every change of a case's figures, and not all
of them pass through the clock (a handler's action sets `acknowledged_on` before the clock runs, a purge
or a test sets dates directly; a case may be deleted). Before a flush that touches a case's dates, channel,
milestone figures or milestones, the hook reads the case's stored state (locking its row on PostgreSQL, so two
transactions changing one case count it once); after the flush it reads the new state, and adds the
difference: each tally row by `n = n + d` in one INSERT ... ON CONFLICT DO UPDATE, safe under concurrent
writers on SQLite and PostgreSQL. Bulk SQL that bypasses the ORM (the bench fixture's inserts) must call
`rebuild`; `meldkluis check` reports a tally that differs from the cases, `meldkluis maintenance` rebuilds it.

A case's contribution: in the month of its receipt and its channel, one received case (closed or not), its
acknowledgement and feedback milestones and how many were met (the Case columns the clock keeps), the days
from receipt to acknowledgement and to feedback, and each undone acknowledgement and feedback milestone by its
due date, plus, while the case is open, each of its open deadlines by due date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Table,
    case,
    cast,
    delete,
    event,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction

from app.models import Case, Milestone, TallyDays, TallyDue, TallyMonth
from app.services import clock

RETENTION_KIND = "retention_review"
MONTH_COUNTS = ("received", "closed", "ack_total", "ack_on_time", "feedback_total", "feedback_on_time")
# (table, key columns, count columns)
TABLES: dict[str, tuple[Table, tuple[str, ...], tuple[str, ...]]] = {
    "month": (TallyMonth.__table__, ("month", "channel_id"), MONTH_COUNTS),  # type: ignore[dict-item]
    "days": (TallyDays.__table__, ("month", "channel_id", "kind", "days"), ("cases",)),  # type: ignore[dict-item]
    "due": (TallyDue.__table__, ("month", "channel_id", "kind", "due_on"), ("milestones",)),  # type: ignore[dict-item]
}
# What makes a stored case or milestone count differently: a change of any other column needs no tally work.
CASE_FIELDS = ("received_on", "channel_id", "closed_on", "acknowledged_on", "feedback_on",
               "acknowledgement_milestones", "acknowledgements_on_time", "feedback_milestones", "feedback_on_time")
MILESTONE_FIELDS = ("case_id", "kind", "due_on", "done_on")

# A tally as counts: (table, key values, count column) -> count.
Figures = Counter[tuple[str, tuple[Any, ...], str]]


@dataclass(frozen=True)
class CaseState:
    received_on: date
    channel_id: str
    closed_on: date | None
    acknowledged_on: date | None
    feedback_on: date | None
    acknowledgement_milestones: int
    acknowledgements_on_time: int
    feedback_milestones: int
    feedback_on_time: int


@dataclass(frozen=True)
class MilestoneState:
    kind: str
    due_on: date
    done_on: date | None


def month_of(day: date) -> date:
    return day.replace(day=1)


def contribution(case_state: CaseState, milestones: Iterable[MilestoneState]) -> Figures:
    """What one case adds to the tally."""
    figures: Figures = Counter()
    cell = (month_of(case_state.received_on), case_state.channel_id)
    for column, value in (
        ("received", 1), ("closed", case_state.closed_on is not None),
        ("ack_total", case_state.acknowledgement_milestones), ("ack_on_time", case_state.acknowledgements_on_time),
        ("feedback_total", case_state.feedback_milestones), ("feedback_on_time", case_state.feedback_on_time),
    ):
        figures["month", cell, column] += int(value or 0)
    for kind, done in (("ack", case_state.acknowledged_on), ("feedback", case_state.feedback_on)):
        if done is not None:
            figures["days", (*cell, kind, (done - case_state.received_on).days), "cases"] += 1
    for milestone in milestones:
        if milestone.done_on is not None:
            continue
        if milestone.kind in clock.ACK_KINDS or milestone.kind in clock.FEEDBACK_KINDS:
            kind = "ack" if milestone.kind in clock.ACK_KINDS else "feedback"
            figures["due", (*cell, kind, milestone.due_on), "milestones"] += 1
        if case_state.closed_on is None and milestone.kind != RETENTION_KIND:
            figures["due", (*cell, "open", milestone.due_on), "milestones"] += 1
    return figures


# --- reading the cases: one case at a time for the flush hook, all of them for a rebuild ----------------

_CASE_COLUMNS = (Case.received_on, Case.channel_id, Case.closed_on, Case.acknowledged_on, Case.feedback_on,
                 Case.acknowledgement_milestones, Case.acknowledgements_on_time, Case.feedback_milestones,
                 Case.feedback_on_time)


def stored_figures(connection: Connection, case_ids: Sequence[str], *, lock: bool) -> Figures:
    """The stored cases' contribution, in one query; `lock` holds their rows (PostgreSQL) until the commit."""
    figures: Figures = Counter()
    if not case_ids:
        return figures
    query = (
        select(Case.id, *_CASE_COLUMNS, Milestone.kind, Milestone.due_on, Milestone.done_on)
        .outerjoin(Milestone, Milestone.case_id == Case.id)
        .where(Case.id.in_(sorted(case_ids)))
        .order_by(Case.id)
    )
    if lock:
        query = query.with_for_update(of=Case.__table__)  # type: ignore[arg-type]
    by_case: dict[str, tuple[CaseState, list[MilestoneState]]] = {}
    for row in connection.execute(query):
        if row[0] not in by_case:
            by_case[row[0]] = (CaseState(*row[1:10]), [])
        if row.kind is not None:
            by_case[row[0]][1].append(MilestoneState(row.kind, row.due_on, row.done_on))
    for state, milestones in by_case.values():
        figures.update(contribution(state, milestones))
    return figures


def _month(connection: Connection, column: Any) -> Any:
    if connection.dialect.name == "sqlite":
        return type_coerce(func.date(column, "start of month"), Date)
    return cast(func.date_trunc("month", column), Date)


def _days(connection: Connection, later: Any, earlier: Any) -> Any:
    if connection.dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)


def from_scratch(connection: Connection) -> Figures:
    """The whole tally computed from the cases and milestones (grouped in SQL: a second or so a million cases).

    Written apart from `contribution`, so that `drift` compares two computations, not one with itself.
    """
    figures: Figures = Counter()
    month = _month(connection, Case.received_on)
    per_month = select(month, Case.channel_id, func.count(), func.count(Case.closed_on),
                       *(func.sum(column) for column in _CASE_COLUMNS[5:])).group_by(month, Case.channel_id)
    for month_value, channel_id, *counts in connection.execute(per_month):
        for column, value in zip(MONTH_COUNTS, counts, strict=True):
            figures["month", (month_value, channel_id), column] += int(value or 0)
    for kind, done in (("ack", Case.acknowledged_on), ("feedback", Case.feedback_on)):
        days = _days(connection, done, Case.received_on)
        query = (select(month, Case.channel_id, days, func.count()).where(done.is_not(None))
                 .group_by(month, Case.channel_id, days))
        for month_value, channel_id, day_count, count in connection.execute(query):
            figures["days", (month_value, channel_id, kind, day_count), "cases"] += count
    undone = select(month, Case.channel_id, Milestone.due_on, Milestone.kind).join(
        Milestone, Milestone.case_id == Case.id).where(Milestone.done_on.is_(None))
    group = case((Milestone.kind.in_(list(clock.ACK_KINDS)), "ack"), else_="feedback")
    statistics = (undone.with_only_columns(month, Case.channel_id, group, Milestone.due_on, func.count())
                  .where(Milestone.kind.in_([*clock.ACK_KINDS, *clock.FEEDBACK_KINDS]))
                  .group_by(month, Case.channel_id, group, Milestone.due_on))
    open_now = (undone.with_only_columns(month, Case.channel_id, Milestone.due_on, func.count())
                .where(Case.closed_on.is_(None), Milestone.kind != RETENTION_KIND)
                .group_by(month, Case.channel_id, Milestone.due_on))
    for month_value, channel_id, kind, due_on, count in connection.execute(statistics):
        figures["due", (month_value, channel_id, kind, due_on), "milestones"] += count
    for month_value, channel_id, due_on, count in connection.execute(open_now):
        figures["due", (month_value, channel_id, "open", due_on), "milestones"] += count
    return figures


def stored(connection: Connection) -> Figures:
    """The tally as stored (rows of zeros left out)."""
    figures: Figures = Counter()
    for name, (table, keys, counts) in TABLES.items():
        for row in connection.execute(select(table)):
            for column in counts:
                if row._mapping[column]:
                    figures[name, tuple(row._mapping[key] for key in keys), column] += row._mapping[column]
    return figures


# --- writing -------------------------------------------------------------------------------------------

def _insert(connection: Connection) -> Any:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def add(connection: Connection, delta: Figures) -> None:
    """Add `delta` to the stored tally: per table one INSERT ... ON CONFLICT DO UPDATE SET n = n + d, its rows
    in key order (two writers lock shared rows in the same order)."""
    rows: dict[str, dict[tuple[Any, ...], dict[str, int]]] = defaultdict(dict)
    for (name, key, column), value in delta.items():
        if value:
            rows[name].setdefault(key, dict.fromkeys(TABLES[name][2], 0))[column] += value
    for name, found in rows.items():
        table, keys, counts = TABLES[name]
        statement = _insert(connection)(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={column: table.c[column] + statement.excluded[column] for column in counts})
        connection.execute(statement, [dict(zip(keys, key, strict=True)) | found[key] for key in sorted(found)])


def rebuild(connection: Connection) -> None:
    """Replace the tally by one computed from the cases (after bulk SQL, or to repair drift).

    On PostgreSQL the tally tables are locked first: a transaction that changes a case meanwhile waits, and then
    adds its difference to the rebuilt rows (or the rebuild waits for it and reads its committed cases).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE tally_month, tally_days, tally_due IN EXCLUSIVE MODE"))
    for table, _keys, _counts in TABLES.values():
        connection.execute(delete(table))
    add(connection, from_scratch(connection))


def drift(connection: Connection) -> int:
    """How many tally figures differ from a computation from scratch (0: in step)."""
    difference = stored(connection)
    difference.subtract(from_scratch(connection))
    return sum(1 for value in difference.values() if value)


# --- the flush hook --------------------------------------------------------------------------------------

_PENDING = "tally_pending"


def _changed(instance: Any, fields: tuple[str, ...]) -> bool:
    state = instance._sa_instance_state
    return any(state.attrs[name].history.has_changes() for name in fields)


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    existing: set[str] = set()  # stored cases whose contribution may change
    new_cases: list[Case] = []
    for instance in session.new:
        if isinstance(instance, Case):
            new_cases.append(instance)
        elif isinstance(instance, Milestone):
            existing.add(instance.case_id)
    for instance in session.dirty:
        if isinstance(instance, Case) and _changed(instance, CASE_FIELDS):
            existing.add(instance.id)
        elif isinstance(instance, Milestone) and _changed(instance, MILESTONE_FIELDS):
            history = instance._sa_instance_state.attrs["case_id"].history
            existing.update(history.deleted or ())
            existing.add(instance.case_id)
    for instance in session.deleted:
        if isinstance(instance, Case):
            existing.add(instance.id)
        elif isinstance(instance, Milestone):
            existing.add(instance.case_id)
    if not existing and not new_cases:
        session.info.pop(_PENDING, None)
        return
    existing -= {case_row.id for case_row in new_cases if case_row.id is not None}
    before = stored_figures(session.connection(), sorted(existing), lock=True)
    session.info[_PENDING] = (sorted(existing), new_cases, before)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    existing, new_cases, before = pending
    ids = sorted({*existing, *(case_row.id for case_row in new_cases)})
    connection = session.connection()
    delta = stored_figures(connection, ids, lock=False)
    delta.subtract(before)
    add(connection, delta)


def install(target: Any) -> None:
    """Keep the tally in step in every session `target` (a sessionmaker or Session class) makes."""
    if not event.contains(target, "before_flush", _before_flush):
        event.listen(target, "before_flush", _before_flush)
        event.listen(target, "after_flush", _after_flush)
