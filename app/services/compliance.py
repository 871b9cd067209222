"""What a compliance officer sees: statistics, the register, the yearly report. Never content, never a key.

Everything here reads only case metadata (channel, category, dates, status, outcome, anonymous,
legal hold) and milestones. The overview's figures come from the tally (app/services/tally.py): counts per
month of receipt and channel, kept in step with every change of a case, so the page reads a bounded number
of rows however many cases there are. Medians come from day-histograms.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import JSON, Select, case, func, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.models import (
    Case,
    Channel,
    DeadlinePolicy,
    Milestone,
    TallyDays,
    TallyDue,
    TallyMonth,
    open_deadline,
)
from app.services import clock, tally

GRANULARITIES = ("month", "quarter", "year")
RETENTION_KIND = "retention_review"
REGISTER_KINDS = ("acknowledge", "respond", "feedback", "decide", "meeting", RETENTION_KIND)
SOON_DAYS = 14
ATTENTION_PAGE_SIZE = 50


def _median(histogram: dict[int, int]) -> float | None:
    """The median of a {value: count} histogram (the mean of the two middle values for an even count)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        count = histogram[value]
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return sum(found) / 2


def _period(year: int, month: int, granularity: str) -> str:
    if granularity == "month":
        return f"{year}-{month:02d}"
    if granularity == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return str(year)


@dataclass(frozen=True)
class Outcomes:
    """Milestones of one kind, each in exactly one state (a milestone is met when done on or before due)."""

    on_time: int
    late: int
    overdue: int
    running: int

    @property
    def decided(self) -> int:
        """Done (on time or late) or missed: what the on-time percentage is over. Running is not decided."""
        return self.on_time + self.late + self.overdue

    @property
    def percentage(self) -> str:
        return percentage(self.on_time, self.decided)


@dataclass
class Stats:
    """One cell of the overview: a period and a channel (or all channels)."""

    received: int = 0
    closed: int = 0
    ack_total: int = 0
    ack_on_time: int = 0
    feedback_total: int = 0
    feedback_on_time: int = 0
    overdue_now: int = 0
    # Milestones not done yet: past their due date (overdue) or not (still running). What is neither
    # on time nor undone was done late.
    ack_overdue: int = 0
    ack_running: int = 0
    feedback_overdue: int = 0
    feedback_running: int = 0
    ack_days: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    feedback_days: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def open(self) -> int:
        return self.received - self.closed

    @property
    def ack(self) -> Outcomes:
        return Outcomes(self.ack_on_time, self.ack_total - self.ack_on_time - self.ack_overdue - self.ack_running,
                        self.ack_overdue, self.ack_running)

    @property
    def feedback(self) -> Outcomes:
        return Outcomes(self.feedback_on_time,
                        self.feedback_total - self.feedback_on_time - self.feedback_overdue - self.feedback_running,
                        self.feedback_overdue, self.feedback_running)

    def add(self, other: Stats) -> None:
        for name in ("received", "closed", "ack_total", "ack_on_time", "feedback_total", "feedback_on_time",
                     "overdue_now", "ack_overdue", "ack_running", "feedback_overdue", "feedback_running"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.ack_days, other.ack_days), (self.feedback_days, other.feedback_days)):
            for value, count in theirs.items():
                mine[value] += count

    @property
    def median_ack_days(self) -> float | None:
        return _median(self.ack_days)

    @property
    def median_feedback_days(self) -> float | None:
        return _median(self.feedback_days)


@dataclass(frozen=True)
class OverviewRow:
    period: str
    channel: str  # "" for the total of a period
    stats: Stats


@dataclass(frozen=True)
class Overview:
    granularity: str
    year: int | None
    years: list[int]
    rows: list[OverviewRow]
    totals: list[OverviewRow]
    chart: Markup


def years_with_cases(session: Session) -> list[int]:
    # Two scalar subqueries, not min() and max() in one select: each is then one index lookup.
    first, last = session.execute(select(select(func.min(Case.received_on)).scalar_subquery(),
                                         select(func.max(Case.received_on)).scalar_subquery())).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


def _in_year(query: Select[Any], year: int | None) -> Select[Any]:
    if year is None:
        return query
    return query.where(Case.received_on >= date(year, 1, 1), Case.received_on <= date(year, 12, 31))


def _in_months(query: Select[Any], month: Any, year: int | None) -> Select[Any]:
    if year is None:
        return query
    return query.where(month >= date(year, 1, 1), month <= date(year, 12, 1))


def compute_stats(session: Session, granularity: str, year: int | None, on: date) -> dict[tuple[str, str], Stats]:
    """Statistics keyed by (period, channel id) and (period, "") for every channel together.

    Read from the tally (app/services/tally.py): three queries over at most a few hundred rows per month and
    channel, however many cases there are. Undone milestones come by due date, so SQL splits them into
    overdue and running by `on`.
    """
    cells: dict[tuple[str, str], Stats] = defaultdict(Stats)
    by_month: dict[tuple[date, str], Stats] = {}  # the cell of each tally key (thousands of day rows a year)

    def cell_of(month: date, channel_id: str) -> Stats:
        found = by_month.get((month, channel_id))
        if found is None:
            found = by_month[month, channel_id] = cells[_period(month.year, month.month, granularity), channel_id]
        return found

    months = _in_months(select(TallyMonth.month, TallyMonth.channel_id, *(getattr(TallyMonth, name) for name in
                                                                          tally.MONTH_COUNTS))
                        .where(TallyMonth.received > 0), TallyMonth.month, year)
    for month, channel_id, *counts in session.execute(months):
        cell = cell_of(month, channel_id)
        for name, count in zip(tally.MONTH_COUNTS, counts, strict=True):
            setattr(cell, name, getattr(cell, name) + count)

    days = _in_months(select(TallyDays.month, TallyDays.channel_id, TallyDays.kind, _gathered(session, TallyDays.days),
                             _gathered(session, TallyDays.cases))
                      .where(TallyDays.cases > 0)
                      .group_by(TallyDays.month, TallyDays.channel_id, TallyDays.kind), TallyDays.month, year)
    for month, channel_id, kind, day_counts, counts in session.execute(days):
        cell = cell_of(month, channel_id)
        histogram = cell.ack_days if kind == "ack" else cell.feedback_days
        for day_count, count in zip(day_counts, counts, strict=True):
            histogram[day_count] += count

    past_due = (TallyDue.due_on < on).label("past_due")  # grouped by its name: one bound date
    due = _in_months(select(TallyDue.month, TallyDue.channel_id, TallyDue.kind, past_due, func.sum(TallyDue.milestones))
                     .group_by(TallyDue.month, TallyDue.channel_id, TallyDue.kind, past_due), TallyDue.month, year)
    for month, channel_id, kind, is_past_due, count in session.execute(due):
        if not count:
            continue
        cell = cell_of(month, channel_id)
        if kind == "open":
            cell.overdue_now += count if is_past_due else 0
        else:
            name = f"{kind}_{'overdue' if is_past_due else 'running'}"
            setattr(cell, name, getattr(cell, name) + count)

    for (period, _channel), stats in list(cells.items()):
        cells[(period, "")].add(stats)
    return cells


def _gathered(session: Session, column: Any) -> Any:
    """A day histogram's column as one list per month, channel and kind, in order of the days (SQLite feeds a
    group's rows to its aggregates in one pass, so its lists line up too): one row per histogram, not one per
    number of days. Fetching those rows, thousands a year, was most of what the overview's cost added with
    the cases."""
    if session.get_bind().dialect.name == "postgresql":
        return func.array_agg(aggregate_order_by(column, TallyDays.days))
    return type_coerce(func.json_group_array(column), JSON)


def channel_names(session: Session, lang: str) -> dict[str, str]:
    return {c.id: c.name(lang) for c in session.scalars(select(Channel).order_by(Channel.position, Channel.slug))}


def overview(session: Session, granularity: str, year: int | None, on: date, lang: str) -> Overview:
    """The overview table and chart; `year` limits month and quarter views (None: every year)."""
    if granularity not in GRANULARITIES:
        granularity = "month"
    cells = compute_stats(session, granularity, year, on)
    names = channel_names(session, lang)
    order = {channel_id: position for position, channel_id in enumerate(names)}
    keys = sorted((key for key in cells if key[1]), key=lambda key: (key[0], order.get(key[1], len(order))))
    rows = [OverviewRow(period, names.get(channel_id, channel_id), cells[(period, channel_id)])
            for period, channel_id in keys]
    totals = sorted((OverviewRow(period, "", stats) for (period, channel_id), stats in cells.items()
                     if not channel_id), key=lambda row: row.period)
    years = years_with_cases(session)
    by_period = {row.period: row for row in totals}
    every = [by_period.get(period, OverviewRow(period, "", Stats()))
             for period in _all_periods(granularity, year, years)]
    return Overview(granularity, year, years, rows, totals, bar_chart(every))


def _all_periods(granularity: str, year: int | None, years: list[int]) -> list[str]:
    """Every period the chart spans, also those without cases: the months (or quarters) of the year, or
    every year (or its months and quarters) from the first case to the last."""
    span = [year] if year is not None else sorted(years)
    if granularity == "year":
        return [str(y) for y in span]
    months = range(1, 13) if granularity == "month" else (1, 4, 7, 10)
    return [_period(y, month, granularity) for y in span for month in months]


def bar_chart(totals: list[OverviewRow]) -> Markup:
    """An inline SVG bar chart (drawn on the server; no script): received, on time, overdue per period."""
    series = (
        ("received", _("Received"), "#6b8fa3", lambda s: s.received),
        ("on-time", _("Acknowledged on time"), "#1f6f5c", lambda s: s.ack_on_time),
        ("overdue", _("Overdue now"), "#b3261e", lambda s: s.overdue_now),
    )
    bar, gap, height, top, bottom, left = 16, 14, 220, 20, 40, 36
    group = bar * len(series) + gap
    legend_step = 190
    # Wide enough for every period and for the whole legend (which a one-period chart used to cut off).
    width = max(left + max(1, len(totals)) * group + 10, left + len(series) * legend_step)
    peak = max([1] + [getter(row.stats) for row in totals for *_, getter in series])
    scale = height / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {top + height + bottom + 24}" '
        f'width="{width}" height="{top + height + bottom + 24}" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(_("Cases per period"))}</title>',
        f'<line x1="{left}" y1="{top + height}" x2="{width}" y2="{top + height}" stroke="#5b6b70"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{top + height}" font-size="10" text-anchor="end">0</text>',
    ]
    for index, row in enumerate(totals):
        x0 = left + index * group + gap // 2
        for number, (_slug, label, colour, getter) in enumerate(series):
            value = getter(row.stats)
            h = round(value * scale, 1)
            parts.append(
                f'<rect x="{x0 + number * bar}" y="{top + height - h}" width="{bar - 2}" height="{h}" '
                f'fill="{colour}"><title>{escape(row.period)}: {escape(label)} {value}</title></rect>'
            )
        parts.append(
            f'<text x="{x0 + bar * len(series) / 2}" y="{top + height + 14}" font-size="10" '
            f'text-anchor="middle">{escape(row.period)}</text>'
        )
    legend_y = top + height + bottom
    for number, (_slug, label, colour, _getter) in enumerate(series):
        x = left + number * legend_step
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{legend_y}" font-size="11">{escape(label)}</text>')
    parts.append("</svg>")
    # Every text in it is escaped above (bandit B704 / ruff S704 do not apply).
    return Markup("".join(parts))  # noqa: S704  # nosec


# --- the list of milestones that need attention --------------------------------------------------------

@dataclass(frozen=True)
class AttentionRow:
    reference: str
    channel: str
    category: str
    kind: str
    due_on: date
    days_left: int
    disclosure_risk: bool
    legal_hold: bool

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def _risky_by_channel(session: Session) -> dict[str, set[str]]:
    policies = {p.id: clock.risky_kinds(p) for p in session.scalars(select(DeadlinePolicy))}
    return {c.id: policies.get(c.policy_id, set()) for c in session.scalars(select(Channel))}


@dataclass(frozen=True)
class AttentionPage:
    rows: list[AttentionRow]
    total: int
    page: int
    pages: int


def attention(session: Session, on: date, lang: str, within_days: int = SOON_DAYS, page: int = 1) -> AttentionPage:
    """Open milestones that are overdue or due within `within_days` (not retention reviews), nearest first.

    Starts from the open cases in the order of their nearest open deadline (kept on the case by the clock),
    not from every open milestone (a closed case keeps its unmet milestones as history, and those grow with
    the years) nor from every open case: a page reads about a page of cases. One page per query; the total comes
    from the tally's open deadlines by due date (`kind` "open": those of cases not closed), not from a count
    of every due milestone, which grows with the open cases.
    """
    channels = {c.id: c for c in session.scalars(select(Channel))}
    risky = _risky_by_channel(session)
    page = max(1, page)
    # The page is chosen from the first cases by nearest deadline (ix_case_next_due): the first n deadlines in
    # (due, reference, kind) order all belong to the first n cases in (nearest deadline, reference) order, since
    # every other case's deadlines come after those cases' nearest ones. The rows of the page's cases are read
    # for the category and the legal hold alone.
    by = on + timedelta(days=within_days)
    offset = (page - 1) * ATTENTION_PAGE_SIZE
    first_cases = (
        select(Case.id, Case.reference, Case.channel_id)
        .where(Case.next_due_on <= by)  # only open cases have one: the clock clears it when a case closes
        .order_by(Case.next_due_on, Case.reference)
        .limit(offset + ATTENTION_PAGE_SIZE)
        .subquery()
    )
    due = (
        select(Milestone.case_id, Milestone.kind, Milestone.due_on, first_cases.c.reference, first_cases.c.channel_id)
        .join(first_cases, first_cases.c.id == Milestone.case_id)
        .where(open_deadline(), Milestone.due_on <= by)
        .order_by(Milestone.due_on, first_cases.c.reference, Milestone.kind)
        .limit(ATTENTION_PAGE_SIZE).offset(offset)
        .subquery()
    )
    query = (
        select(due.c.kind, due.c.due_on, due.c.reference, due.c.channel_id, Case.category, Case.legal_hold)
        .join(Case, Case.id == due.c.case_id)
        .order_by(due.c.due_on, due.c.reference, due.c.kind)
    )
    found = session.execute(query).all()
    if not found and page > 1:
        return attention(session, on, lang, within_days)  # past the end (the list shrank): the first page
    rows = []
    for kind, due_on, reference, channel_id, category, hold in found:
        channel = channels[channel_id]
        # Open, so at risk exactly when the due date has passed (clock.milestone_at_risk).
        rows.append(AttentionRow(
            reference=reference, channel=channel.name(lang), category=channel.category_name(category, lang),
            kind=kind, due_on=due_on, days_left=(due_on - on).days,
            disclosure_risk=kind in risky.get(channel_id, set()) and due_on < on, legal_hold=hold,
        ))
    total = int(session.scalar(select(func.sum(TallyDue.milestones))
                               .where(TallyDue.kind == "open", TallyDue.due_on <= by))
                or 0)
    return AttentionPage(rows, total, page, max(1, -(-total // ATTENTION_PAGE_SIZE)))


# --- the register (Directive art. 18) ------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterRow:
    reference: str
    channel: str
    category: str
    received_on: date
    acknowledged_on: date | None
    feedback_on: date | None
    closed_on: date | None
    status: str
    outcome: str
    anonymous: bool
    legal_hold: bool
    purged_on: date | None
    disclosure_risk: bool
    milestones: dict[str, tuple[date, date | None]]
    states: dict[str, str]  # kind -> one of MILESTONE_STATES


@dataclass(frozen=True)
class Register:
    rows: list[RegisterRow]
    kinds: list[str]
    total: int


REGISTER_CASE_COLUMNS = (
    Case.id, Case.reference, Case.channel_id, Case.category, Case.received_on, Case.acknowledged_on, Case.feedback_on,
    Case.closed_on, Case.status, Case.outcome, Case.anonymous, Case.legal_hold, Case.purged_on,
)


def register(session: Session, year: int | None, on: date, lang: str, *, offset: int = 0,
             limit: int | None = None) -> Register:
    """One row per case, oldest first; milestones as (due, done) per kind."""
    channels = {c.id: c for c in session.scalars(select(Channel))}
    risky = _risky_by_channel(session)
    total = session.scalar(_in_year(select(func.count(Case.id)), year)) or 0
    # Plain rows of only the columns shown (no ORM objects: a page has 200 cases and ~700 milestones, and a
    # case row also carries its sealed report, a milestone its extensions).
    cases = _in_year(select(*REGISTER_CASE_COLUMNS).order_by(Case.received_on, Case.reference), year).offset(offset)
    if limit is not None:
        cases = cases.limit(limit)
    case_rows = session.execute(cases).all()
    wanted = {c.id for c in case_rows}
    by_case: dict[str, list[Any]] = defaultdict(list)
    milestones = select(Milestone.case_id, Milestone.kind, Milestone.due_on, Milestone.done_on)
    if limit is not None:  # one page: its cases' milestones by key
        milestones = milestones.where(Milestone.case_id.in_(wanted))
    else:
        milestones = _in_year(milestones.join(Case, Case.id == Milestone.case_id), year)
    for milestone in session.execute(milestones):
        if milestone.case_id in wanted:
            by_case[milestone.case_id].append(milestone)
    kinds = list(REGISTER_KINDS)
    kinds += sorted({m.kind for ms in by_case.values() for m in ms} - set(kinds))
    rows = []
    for item in case_rows:
        channel = channels[item.channel_id]
        own = by_case.get(item.id, [])
        rows.append(RegisterRow(
            reference=item.reference, channel=channel.name(lang),
            category=channel.category_name(item.category, lang), received_on=item.received_on,
            acknowledged_on=item.acknowledged_on, feedback_on=item.feedback_on, closed_on=item.closed_on,
            status=item.status, outcome=item.outcome or "", anonymous=item.anonymous, legal_hold=item.legal_hold,
            purged_on=item.purged_on,
            # clock.milestone_at_risk on a plain row: due before `on` and not done by its due date.
            disclosure_risk=any(m.kind in risky.get(item.channel_id, set()) and m.due_on < on
                                and not (m.done_on is not None and m.done_on <= m.due_on) for m in own),
            milestones={m.kind: (m.due_on, m.done_on) for m in own},
            states={m.kind: milestone_state(m.due_on, m.done_on, on) for m in own},
        ))
    return Register(rows, kinds, total)


MILESTONE_STATES = ("on_time", "late", "overdue", "running")


def milestone_state(due_on: date, done_on: date | None, on: date) -> str:
    """Each milestone is in exactly one state: done on time, done late, overdue (undone, due date past)
    or still running (undone, not yet due)."""
    if done_on is not None:
        return "on_time" if done_on <= due_on else "late"
    return "overdue" if due_on < on else "running"


def state_label(state: str) -> str:
    labels = {"on_time": _("done on time"), "late": _("done late"), "overdue": _("overdue, not done"),
              "running": _("still running")}
    return labels.get(state, state)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_delimiter(lang: str) -> str:
    """Dutch spreadsheet software (decimal comma) expects semicolons; English, commas."""
    return ";" if lang == "nl" else ","


def register_csv(data: Register, delimiter: str = ",") -> Iterator[str]:
    """The register as CSV lines (UTF-8 with a byte-order mark so spreadsheets read accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    header: list[str] = [_("Reference"), _("Channel"), _("Category"), _("Received"), _("Acknowledged"),
                         _("Feedback"), _("Closed"), _("Status"), _("Outcome"), _("Anonymous"), _("Legal hold"),
                         _("Purged"), _("Disclosure risk")]
    for kind in data.kinds:
        header += [f"{milestone_label(kind)}: {_('due')}", f"{milestone_label(kind)}: {_('done')}",
                   f"{milestone_label(kind)}: {_('state')}"]
    writer.writerow([csv_cell(h) for h in header])
    yield "\ufeff" + flush()
    for row in data.rows:
        cells: list[object] = [row.reference, row.channel, row.category, row.received_on, row.acknowledged_on,
                               row.feedback_on, row.closed_on, status_label(row.status), row.outcome, row.anonymous,
                               row.legal_hold, row.purged_on, row.disclosure_risk]
        for kind in data.kinds:
            due, done = row.milestones.get(kind, (None, None))
            state = row.states.get(kind)
            cells += [due, done, state_label(state) if state else None]
        writer.writerow([csv_cell(c) for c in cells])
        yield flush()


def milestone_label(kind: str) -> str:
    labels = {
        "acknowledge": _("Acknowledgement"), "respond": _("Response"), "feedback": _("Feedback"),
        "decide": _("Decision"), "meeting": _("Meeting"), RETENTION_KIND: _("Retention review"),
    }
    return labels.get(kind, kind)


def status_label(status: str) -> str:
    labels = {"new": _("new"), "acknowledged": _("acknowledged"), "in_progress": _("in progress"),
              "feedback_given": _("feedback given"), "closed": _("closed")}
    return labels.get(status, status)


# --- the yearly report -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NatureRow:
    channel: str
    category: str
    received: int
    anonymous: int


@dataclass(frozen=True)
class YearReport:
    year: int
    totals: Stats
    by_channel: list[OverviewRow]
    nature: list[NatureRow]
    anonymous: int
    disclosure_risk: int


def yearly_report(session: Session, year: int, on: date, lang: str) -> YearReport:
    """The year's figures, including the number and nature of anonymous reports (draft decree)."""
    cells = compute_stats(session, "year", year, on)
    names = channel_names(session, lang)
    by_channel = [OverviewRow(str(year), names[cid], cells[(str(year), cid)]) for cid in names
                  if (str(year), cid) in cells]
    channels = {c.id: c for c in session.scalars(select(Channel))}
    anonymous_count = func.sum(case((Case.anonymous.is_(True), 1), else_=0))
    nature = [
        NatureRow(channels[cid].name(lang), channels[cid].category_name(category, lang), received, int(anon or 0))
        for cid, category, received, anon in session.execute(
            _in_year(select(Case.channel_id, Case.category, func.count(), anonymous_count)
                     .group_by(Case.channel_id, Case.category), year))
    ]
    position = {name: index for index, name in enumerate(names.values())}
    nature.sort(key=lambda row: (position.get(row.channel, len(position)), -row.received, row.category))
    register_rows = register(session, year, on, lang).rows
    return YearReport(
        year=year, totals=cells.get((str(year), ""), Stats()), by_channel=by_channel, nature=nature,
        anonymous=sum(row.anonymous for row in nature),
        disclosure_risk=sum(1 for row in register_rows if row.disclosure_risk),
    )


def percentage(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"

