"""What a compliance officer sees: statistics, the register, the yearly report. Never content, never a key.

Everything here reads only case metadata (channel, category, dates, status, outcome, anonymous,
legal hold) and milestones. The overview aggregates in SQL, so it stays fast with 100,000 cases: a
year of cases is read from the covering index ix_case_statistics, whose milestone figures per case
(kept by the clock) spare a join with every milestone; only the open cases are joined with their
milestones, for what is overdue now. Medians come from day-histograms.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Integer, Select, String, case, cast, func, select
from sqlalchemy.orm import Session

from app.models import STATUSES, Case, Channel, DeadlinePolicy, Milestone, open_deadline
from app.services import clock

GRANULARITIES = ("month", "quarter", "year")
RETENTION_KIND = "retention_review"
REGISTER_KINDS = ("acknowledge", "respond", "feedback", "decide", "meeting", RETENTION_KIND)
SOON_DAYS = 14
OPEN_STATUSES = tuple(status for status in STATUSES if status != "closed")
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


def _days_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)


def _day_list(session: Session, days: ColumnElement[Any]) -> ColumnElement[Any]:
    """The group's day counts as one comma-separated text ("2,10,4"), NULLs left out."""
    text = cast(days, String)
    if session.get_bind().dialect.name == "sqlite":
        return func.group_concat(text, ",")
    return func.string_agg(text, ",")


def _histogram(day_list: str | None) -> Counter[int]:
    return Counter(map(int, day_list.split(","))) if day_list else Counter()


def _period(year: int, month: int, granularity: str) -> str:
    if granularity == "month":
        return f"{year}-{month:02d}"
    if granularity == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return str(year)


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
    ack_days: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    feedback_days: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def open(self) -> int:
        return self.received - self.closed

    def add(self, other: Stats) -> None:
        for name in ("received", "closed", "ack_total", "ack_on_time", "feedback_total", "feedback_on_time",
                     "overdue_now"):
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


def compute_stats(session: Session, granularity: str, year: int | None, on: date) -> dict[tuple[str, str], Stats]:
    """Statistics keyed by (period, channel id) and (period, "") for every channel together.

    Two queries, each read from indexes only. The first groups the year's cases by received day and
    channel, the order of ix_case_statistics, so the database streams it without sorting; it carries
    the counts, the clock's milestone figures and, for the medians, the days to acknowledgement and to
    feedback as lists. The second counts the overdue milestones of the year's open cases.
    """
    cells: dict[tuple[str, str], Stats] = defaultdict(Stats)
    periods: dict[tuple[int, int], str] = {}
    day_lists: dict[tuple[str, str], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))

    def key_of(received_on: date, channel_id: str) -> tuple[str, str]:
        month = (received_on.year, received_on.month)
        if month not in periods:
            periods[month] = _period(*month, granularity)
        return periods[month], channel_id

    ack_days = _day_list(session, _days_between(session, Case.acknowledged_on, Case.received_on))
    feedback_days = _day_list(session, _days_between(session, Case.feedback_on, Case.received_on))
    days = _in_year(
        select(Case.received_on, Case.channel_id, func.count(), func.count(Case.closed_on),
               func.sum(Case.acknowledgement_milestones), func.sum(Case.acknowledgements_on_time),
               func.sum(Case.feedback_milestones), func.sum(Case.feedback_on_time), ack_days, feedback_days)
        .group_by(Case.received_on, Case.channel_id), year)
    for received_on, channel_id, received, closed, *figures, ack_list, feedback_list in session.execute(days):
        key = key_of(received_on, channel_id)
        cell = cells[key]
        cell.received += received
        cell.closed += closed
        cell.ack_total += int(figures[0])
        cell.ack_on_time += int(figures[1])
        cell.feedback_total += int(figures[2])
        cell.feedback_on_time += int(figures[3])
        for lists, day_list in zip(day_lists[key], (ack_list, feedback_list), strict=True):
            if day_list:
                lists.append(day_list)
    for key, (ack_lists, feedback_lists) in day_lists.items():
        cells[key].ack_days.update(_histogram(",".join(ack_lists)))
        cells[key].feedback_days.update(_histogram(",".join(feedback_lists)))

    overdue = _in_year(
        select(Case.received_on, Case.channel_id, func.count())
        .select_from(Case).join(Milestone, Milestone.case_id == Case.id)
        .where(Case.closed_on.is_(None), open_deadline(), Milestone.due_on < on)
        .group_by(Case.received_on, Case.channel_id), year)
    for received_on, channel_id, count in session.execute(overdue):
        cells[key_of(received_on, channel_id)].overdue_now += count

    for (period, _channel), stats in list(cells.items()):
        cells[(period, "")].add(stats)
    return cells


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
    return Overview(granularity, year, years_with_cases(session), rows, totals, bar_chart(totals))


def bar_chart(totals: list[OverviewRow]) -> Markup:
    """An inline SVG bar chart (drawn on the server; no script): received, on time, overdue per period."""
    series = (
        ("received", _("Received"), "#6b8fa3", lambda s: s.received),
        ("on-time", _("Acknowledged on time"), "#1f6f5c", lambda s: s.ack_on_time),
        ("overdue", _("Overdue now"), "#b3261e", lambda s: s.overdue_now),
    )
    bar, gap, height, top, bottom, left = 14, 12, 160, 20, 40, 36
    group = bar * len(series) + gap
    width = left + max(1, len(totals)) * group + 10
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
        x = left + number * 150
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

    Starts from the open cases (index ix_case_open), not from every open milestone: a closed case keeps
    its unmet milestones as history, and those grow with the years. One page per query; the window count
    gives the total in the same statement.
    """
    channels = {c.id: c for c in session.scalars(select(Channel))}
    risky = _risky_by_channel(session)
    page = max(1, page)
    # The page is chosen from indexes only (ix_case_open, the open-deadline index); the rows of its
    # cases are read for the category and the legal hold alone.
    due = (
        select(Milestone.case_id, Milestone.kind, Milestone.due_on, Case.reference, Case.channel_id,
               func.count().over().label("total"))
        .select_from(Case).join(Milestone, Milestone.case_id == Case.id)
        .where(Case.status.in_(OPEN_STATUSES), Case.closed_on.is_(None), open_deadline(),
               Milestone.due_on <= on + timedelta(days=within_days))
        .order_by(Milestone.due_on, Case.reference, Milestone.kind)
        .limit(ATTENTION_PAGE_SIZE).offset((page - 1) * ATTENTION_PAGE_SIZE)
        .subquery()
    )
    query = (
        select(due.c.kind, due.c.due_on, due.c.reference, due.c.channel_id, Case.category, Case.legal_hold,
               due.c.total)
        .join(Case, Case.id == due.c.case_id)
        .order_by(due.c.due_on, due.c.reference, due.c.kind)
    )
    found = session.execute(query).all()
    if not found and page > 1:
        return attention(session, on, lang, within_days)  # past the end (the list shrank): the first page
    rows = []
    for kind, due_on, reference, channel_id, category, hold, _total in found:
        channel = channels[channel_id]
        # Open, so at risk exactly when the due date has passed (clock.milestone_at_risk).
        rows.append(AttentionRow(
            reference=reference, channel=channel.name(lang), category=channel.category_name(category, lang),
            kind=kind, due_on=due_on, days_left=(due_on - on).days,
            disclosure_risk=kind in risky.get(channel_id, set()) and due_on < on, legal_hold=hold,
        ))
    total = found[0][-1] if found else 0
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


@dataclass(frozen=True)
class Register:
    rows: list[RegisterRow]
    kinds: list[str]
    total: int


def register(session: Session, year: int | None, on: date, lang: str, *, offset: int = 0,
             limit: int | None = None) -> Register:
    """One row per case, oldest first; milestones as (due, done) per kind."""
    channels = {c.id: c for c in session.scalars(select(Channel))}
    risky = _risky_by_channel(session)
    total = session.scalar(_in_year(select(func.count(Case.id)), year)) or 0
    cases = _in_year(select(Case).order_by(Case.received_on, Case.reference), year).offset(offset)
    if limit is not None:
        cases = cases.limit(limit)
    case_rows = list(session.scalars(cases))
    wanted = {c.id for c in case_rows}
    by_case: dict[str, list[Milestone]] = defaultdict(list)
    milestones = _in_year(select(Milestone).join(Case, Case.id == Milestone.case_id), year)
    if limit is not None:
        milestones = milestones.where(Milestone.case_id.in_(wanted))
    for milestone in session.scalars(milestones):
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
            disclosure_risk=any(m.kind in risky.get(item.channel_id, set()) and clock.milestone_at_risk(m, on)
                                for m in own),
            milestones={m.kind: (m.due_on, m.done_on) for m in own},
        ))
    return Register(rows, kinds, total)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def register_csv(data: Register) -> Iterator[str]:
    """The register as CSV lines (UTF-8 with a byte-order mark so spreadsheets read accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    header: list[str] = [_("Reference"), _("Channel"), _("Category"), _("Received"), _("Acknowledged"),
                         _("Feedback"), _("Closed"), _("Status"), _("Outcome"), _("Anonymous"), _("Legal hold"),
                         _("Purged"), _("Disclosure risk")]
    for kind in data.kinds:
        header += [f"{milestone_label(kind)}: {_('due')}", f"{milestone_label(kind)}: {_('done')}"]
    writer.writerow([csv_cell(h) for h in header])
    yield "\ufeff" + flush()
    for row in data.rows:
        cells: list[object] = [row.reference, row.channel, row.category, row.received_on, row.acknowledged_on,
                               row.feedback_on, row.closed_on, status_label(row.status), row.outcome, row.anonymous,
                               row.legal_hold, row.purged_on, row.disclosure_risk]
        for kind in data.kinds:
            due, done = row.milestones.get(kind, (None, None))
            cells += [due, done]
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

