"""The nearest deadline on a case (the inbox's order, the attention list, the deadline run) drifts only when SQL
outside the app changes milestones: `meldkluis check` reports it, `meldkluis maintenance` recomputes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.cli import main
from app.models import Case, Milestone
from app.services import checks, clock


def _drift(app: Flask, session: Session) -> list[str]:
    return [f.message for f in checks.check_database(session, app.config["MELDKLUIS"])
            if f.code == "next-deadline-drift"]


def test_the_clock_keeps_it_and_a_repair_restores_it(
    app: Flask, db_session: Session, cli: CliRunner, make_case: Callable[..., Case]
) -> None:
    today = clock.today()
    open_case = make_case("misstand", today - timedelta(days=2))
    closed = make_case("misstand", today - timedelta(days=40))
    closed.status = "closed"
    clock.on_closed(db_session, closed, today)
    db_session.commit()
    acknowledge = db_session.scalar(select(Milestone).where(Milestone.case_id == open_case.id,
                                                            Milestone.kind == "acknowledge"))
    assert acknowledge is not None
    assert (open_case.next_due_on, open_case.next_milestone) == (acknowledge.due_on, "acknowledge")
    assert (closed.next_due_on, closed.next_milestone) == (None, None)  # closed: none, though it was never acknowledged
    assert clock.out_of_step(db_session) == [] and _drift(app, db_session) == []

    # SQL the clock never sees: the acknowledgement marked done, a closed case given a deadline again.
    db_session.execute(update(Milestone).where(Milestone.id == acknowledge.id).values(done_on=today))
    db_session.execute(update(Case).where(Case.id == closed.id).values(next_due_on=date(2020, 1, 1),
                                                                      next_milestone="acknowledge"))
    db_session.commit()
    assert sorted(clock.out_of_step(db_session)) == sorted([open_case.id, closed.id])
    found = _drift(app, db_session)
    assert found and found[0].startswith("2 case(s)") and "meldkluis maintenance" in found[0]
    db_session.close()

    result = cli.invoke(main, ["maintenance"])
    assert result.exit_code == 0, result.output
    assert "nearest deadlines: 2 case(s) recomputed from their milestones" in result.output
    repaired = {case.id: (case.next_due_on, case.next_milestone) for case in db_session.scalars(select(Case))}
    feedback = db_session.scalar(select(Milestone.due_on).where(Milestone.case_id == open_case.id,
                                                                Milestone.kind == "feedback"))
    assert repaired == {open_case.id: (feedback, "feedback"), closed.id: (None, None)}
    assert _drift(app, db_session) == []
    db_session.rollback()  # maintenance reorders the tables (PostgreSQL): it waits for open transactions
    again = cli.invoke(main, ["maintenance"])
    assert "nearest deadlines: in step with the milestones" in again.output
