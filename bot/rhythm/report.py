"""The post-incident report: what happened, what customers asked, who was told what and when.

Gathered from what the app stores: the incident and its updates (the status
history: the saved status snapshot), broadcasts and their deliveries (the
outbox), the question log, unanswered questions, handoffs, staff alerts and
review marks. Rendering (HTML with an inline SVG chart, CSV) is in
:mod:`bot.admin.report`.

Follow-up consent: a customer counts as having agreed to be contacted when,
within the incident window, they asked something AND either hold an active
subscription (they asked to be told about incidents) or asked for a person
(a handoff: they asked for someone to get back to them). Nothing else counts:
having asked a question is not consent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.broadcast.tables import broadcasts, incident_askers, outbox, subscriptions
from bot.db import StorageError, as_utc, storage_error
from bot.handoff.tables import handoffs
from bot.rhythm.questions import NO_TOPIC, LoggedQuestion, QuestionLog
from bot.rhythm.tables import review_marks, staff_alerts
from bot.status.model import Incident, StatusSnapshot
from bot.store import unanswered

BEFORE = timedelta(minutes=30)  # questions before the first update count (the surge before)
AFTER = timedelta(minutes=30)  # and after the resolution (stragglers)
TOP_TOPICS = 6
CSV_COLUMNS = ("at", "kind", "title", "status", "detail", "channel", "count")


class UnknownIncident(StorageError):
    """No incident with that id in the status history."""


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One row of the timeline: a status update, a broadcast, an alert, a handoff, a review."""

    at: datetime
    kind: str  # status_update | broadcast | staff_alert | handoff | review
    title: str
    status: str = ""
    detail: str = ""
    channel: str = ""
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Told:
    """A broadcast and its reach per channel."""

    at: datetime
    title: str
    kind: str
    by: str
    recipients: int
    per_channel: dict[str, dict[str, int]]  # channel -> state -> count


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A customer who asked during the incident and agreed to be contacted."""

    conversation_id: str
    channel: str
    address: str
    lang: str
    basis: str  # subscribed | asked_for_person
    asked: int


@dataclass
class IncidentReport:
    """Everything the report shows about one incident."""

    incident_id: str
    name: str
    impact: str
    status: str
    start: datetime
    end: datetime | None
    generated_at: datetime
    components: list[str]
    timeline: list[TimelineEvent] = field(default_factory=list)
    bucket: timedelta = timedelta(minutes=5)
    volume: list[tuple[datetime, dict[str, int]]] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    unanswered: list[tuple[str, str, int]] = field(default_factory=list)  # text, lang, count
    handoffs: list[dict[str, object]] = field(default_factory=list)
    told: list[Told] = field(default_factory=list)
    follow_up: list[FollowUp] = field(default_factory=list)

    @property
    def questions(self) -> int:
        """Questions asked in the window."""
        return sum(self.outcomes.values())


def incidents_known(snapshot: StatusSnapshot | None, engine: sa.Engine) -> list[tuple[str, str]]:
    """(id, name) of every incident in the status history and the broadcasts, newest first."""
    seen: dict[str, str] = {}
    if snapshot is not None:
        for incident in (*snapshot.incidents, *snapshot.maintenances):
            seen.setdefault(incident.id, incident.name)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(broadcasts.c.incident_id, sa.func.max(broadcasts.c.title))
                .where(broadcasts.c.incident_id.is_not(None))
                .group_by(broadcasts.c.incident_id)
            ).all()
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error("cannot read the broadcasts", exc) from exc
    for incident_id, title in rows:
        seen.setdefault(str(incident_id), str(title or incident_id))
    return list(seen.items())


def find_incident(snapshot: StatusSnapshot | None, incident_id: str) -> Incident | None:
    """The incident ``incident_id`` in the saved status history, if there."""
    if snapshot is None:
        return None
    for incident in (*snapshot.incidents, *snapshot.maintenances):
        if incident.id == incident_id:
            return incident
    return None


def build_report(
    snapshot: StatusSnapshot | None,
    incident_id: str,
    *,
    engine: sa.Engine,
    questions: QuestionLog | None = None,
    now: datetime | None = None,
) -> IncidentReport:
    """The report of ``incident_id``; :class:`UnknownIncident` when the app never saw it."""
    now = now or datetime.now(UTC)
    incident = find_incident(snapshot, incident_id)
    sent = _broadcasts(engine, incident_id)
    if incident is None and not sent:
        raise UnknownIncident(f"no incident {incident_id!r} in the status history")
    log = questions or QuestionLog(engine)
    if incident is not None:
        times = [u.display_at or u.created_at for u in incident.updates]
        known = [t for t in times if t is not None]
        start = incident.started_at or incident.created_at or (min(known) if known else now)
        end = incident.resolved_at if not incident.is_open else None
        report = IncidentReport(
            incident_id=incident.id,
            name=incident.name,
            impact=incident.impact.value,
            status=incident.status.value,
            start=start,
            end=end,
            generated_at=now,
            components=list(incident.affected_names()),
        )
        for update in sorted(incident.updates, key=lambda u: u.display_at or u.created_at or now):
            report.timeline.append(
                TimelineEvent(
                    at=update.display_at or update.created_at or start,
                    kind="status_update",
                    title=update.status.value.replace("_", " "),
                    status=update.status.value,
                    detail=update.body,
                )
            )
    else:
        first = min(t.at for t in sent)
        report = IncidentReport(
            incident_id=incident_id,
            name=sent[0].title or incident_id,
            impact="",
            status="",
            start=first,
            end=None,
            generated_at=now,
            components=[],
        )
    since = report.start - BEFORE
    until = (report.end + AFTER) if report.end else None
    report.told = sent
    for told in sent:
        reach = {ch: sum(states.values()) for ch, states in told.per_channel.items()}
        report.timeline.append(
            TimelineEvent(
                at=told.at,
                kind="broadcast",
                title=told.title,
                status=told.kind,
                detail=", ".join(f"{ch}: {n}" for ch, n in sorted(reach.items())) or "nobody",
                count=told.recipients,
            )
        )
    asked = _questions(report, log, since, until)
    _unanswered(report, engine, since, until)
    _handoffs_and_more(report, engine, since, until, incident_id, asked)
    report.timeline.sort(key=lambda e: e.at)
    return report


def _broadcasts(engine: sa.Engine, incident_id: str) -> list[Told]:
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(broadcasts)
                .where(broadcasts.c.incident_id == incident_id)
                .order_by(broadcasts.c.created_at)
            ).all()
            ids = [r.id for r in rows]
            counts = conn.execute(
                sa.select(outbox.c.broadcast_id, outbox.c.channel, outbox.c.state, sa.func.count())
                .where(outbox.c.broadcast_id.in_(ids))
                .group_by(outbox.c.broadcast_id, outbox.c.channel, outbox.c.state)
            ).all()
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error("cannot read the broadcasts", exc) from exc
    per: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for bid, channel, state, n in counts:
        per[bid][channel][state] = int(n)
    return [
        Told(
            at=as_utc(r.created_at),
            title=r.title or r.kind,
            kind=r.kind,
            by=r.created_by,
            recipients=r.recipients,
            per_channel={ch: dict(states) for ch, states in per[r.id].items()},
        )
        for r in rows
    ]


def _questions(
    report: IncidentReport, log: QuestionLog, since: datetime, until: datetime | None
) -> list[LoggedQuestion]:
    asked = log.questions(since=since, until=until)
    report.outcomes = dict(Counter(q.outcome for q in asked))
    totals: Counter[str] = Counter()
    for q in asked:
        totals.update(q.topics or (NO_TOPIC,))
    top = [t for t, _ in totals.most_common(TOP_TOPICS)]
    report.topics = top + ([NO_TOPIC] if len(totals) > len(top) and NO_TOPIC not in top else [])
    # an open incident: the chart ends with the last thing that happened, not now
    moments = [*(q.asked_at for q in asked), *(e.at for e in report.timeline)]
    last = until or max([since + timedelta(hours=1), *moments])
    span = last - since
    report.bucket = next(
        (b for b in (timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 180)) if span / b <= 48),
        timedelta(hours=6),
    )
    buckets = max(1, int(span / report.bucket) + 1)
    volume: list[dict[str, int]] = [defaultdict(int) for _ in range(buckets)]
    for q in asked:
        index = min(buckets - 1, int((q.asked_at - since) / report.bucket))
        for topic in q.topics or (NO_TOPIC,):
            volume[index][topic if topic in top else NO_TOPIC] += 1
    report.volume = [(since + i * report.bucket, dict(v)) for i, v in enumerate(volume)]
    return asked


def _unanswered(
    report: IncidentReport, engine: sa.Engine, since: datetime, until: datetime | None
) -> None:
    # By meaning: the console's groups (``group_id``, set by its grouper); a question
    # not grouped yet counts with the others of the same normalized text.
    group = sa.case(
        (
            unanswered.c.group_id.is_not(None),
            sa.literal("g") + sa.cast(unanswered.c.group_id, sa.String),
        ),
        else_=sa.literal("t") + unanswered.c.normalized,
    )
    query = (
        sa.select(sa.func.min(unanswered.c.text), unanswered.c.lang, sa.func.count().label("n"))
        .where(unanswered.c.asked_at >= since)
        .group_by(group, unanswered.c.lang)
        .order_by(sa.desc("n"), sa.func.min(unanswered.c.text))
        .limit(10)
    )
    if until is not None:
        query = query.where(unanswered.c.asked_at < until)
    try:
        with engine.connect() as conn:
            report.unanswered = [(str(t), str(lang), int(n)) for t, lang, n in conn.execute(query)]
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error("cannot read the unanswered questions", exc) from exc


def _between(
    column: sa.ColumnElement[datetime], since: datetime, until: datetime | None
) -> sa.ColumnElement[bool]:
    cond = column >= since
    return sa.and_(cond, column < until) if until is not None else cond


def _handoffs_and_more(
    report: IncidentReport,
    engine: sa.Engine,
    since: datetime,
    until: datetime | None,
    incident_id: str,
    asked: Sequence[LoggedQuestion],
) -> None:
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(handoffs)
                .where(_between(handoffs.c.opened_at, since, until))
                .order_by(handoffs.c.opened_at)
            ).all()
            alerts = conn.execute(
                sa.select(staff_alerts).where(_between(staff_alerts.c.raised_at, since, until))
            ).all()
            marks = conn.execute(
                sa.select(review_marks).where(review_marks.c.incident_id == incident_id)
            ).all()
            askers = {
                r.conversation_id
                for r in conn.execute(
                    sa.select(incident_askers.c.conversation_id).where(
                        incident_askers.c.incident_id == incident_id
                    )
                )
            }
            askers |= {q.conversation_id for q in asked}
            subs = conn.execute(
                sa.select(subscriptions).where(
                    subscriptions.c.active.is_(True),
                    subscriptions.c.conversation_id.in_(askers),
                )
            ).all()
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error("cannot read the incident's handoffs", exc) from exc
    per_conv = Counter(q.conversation_id for q in asked)
    for h in rows:
        report.handoffs.append(
            {
                "id": h.id,
                "opened_at": as_utc(h.opened_at),
                "channel": h.channel,
                "lang": h.lang,
                "state": h.state,
                "claimed_by": h.claimed_by or "",
                "outcome": h.outcome or "",
                "wait_s": (
                    int((as_utc(h.claimed_at) - as_utc(h.opened_at)).total_seconds())
                    if h.claimed_at
                    else None
                ),
            }
        )
        report.timeline.append(
            TimelineEvent(
                at=as_utc(h.opened_at),
                kind="handoff",
                title=f"handoff #{h.id}",
                status=h.state,
                detail=f"claimed by {h.claimed_by}" if h.claimed_by else "",
                channel=h.channel,
            )
        )
    for a in alerts:
        report.timeline.append(
            TimelineEvent(
                at=as_utc(a.raised_at),
                kind="staff_alert",
                title=a.title,
                status=a.kind,
                detail=a.detail,
            )
        )
    for m in marks:
        report.timeline.append(
            TimelineEvent(
                at=as_utc(m.at),
                kind="review",
                title=f"{m.item_kind} {m.item_key} {m.action}",
                status=m.action,
                detail=f"{m.component}, by {m.actor}",
            )
        )
    followers: dict[str, FollowUp] = {}
    for s in subs:
        followers[s.conversation_id] = FollowUp(
            s.conversation_id,
            s.channel,
            s.address,
            s.lang,
            "subscribed",
            per_conv[s.conversation_id],
        )
    for h in rows:
        if h.conversation_id not in followers:
            followers[h.conversation_id] = FollowUp(
                h.conversation_id,
                h.channel,
                "",
                h.lang,
                "asked_for_person",
                per_conv[h.conversation_id],
            )
    report.follow_up = sorted(followers.values(), key=lambda f: (f.basis, f.conversation_id))
