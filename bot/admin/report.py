"""The post-incident report in the console (``/admin/report``) and as a file (HTML or CSV).

The same body template renders in the console (inside the admin layout) and
standalone (``faro report``, or ``?format=html`` to download it) with the
stylesheet inlined. The question chart is an inline SVG drawn here, on the
server: no script runs in either.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.admin.auth import AdminAuth
from bot.admin.i18n import translator, ui_lang
from bot.admin.routes import AdminBase, _env
from bot.db import StorageError
from bot.rhythm.alerts import AlertBoard
from bot.rhythm.questions import QuestionLog
from bot.rhythm.report import (
    CSV_COLUMNS,
    IncidentReport,
    UnknownIncident,
    build_report,
    incidents_known,
)
from bot.status.model import StatusSnapshot

CSS_PATH = Path(__file__).parent / "static" / "report.css"
# colours for the topics (colour-blind safe, Okabe-Ito), the last one for "other"
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999")


def chart_svg(report: IncidentReport, *, width: int = 720, height: int = 260) -> Markup:
    """Question volume by topic over time: stacked bars, one per time bucket (inline SVG)."""
    left, right, top, bottom = 40, 10, 10, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(v.values()) for _, v in report.volume]
    peak = max(totals, default=0) or 1
    n = max(1, len(report.volume))
    bar_w = plot_w / n
    colours = {t: PALETTE[min(i, len(PALETTE) - 1)] for i, t in enumerate(report.topics)}
    colours["other"] = PALETTE[-1]
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(_chart_title(report))}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#555" stroke-width="1"/>',
    ]
    for step in (0, 0.5, 1):
        y = top + plot_h - step * plot_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333">{round(peak * step)}</text>'
        )
        if step:
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                'stroke="#ddd" stroke-width="1"/>'
            )
    label_every = max(1, n // 8)
    for i, (at, counts) in enumerate(report.volume):
        x = left + i * bar_w
        y = top + plot_h
        for topic in report.topics:
            count = counts.get(topic, 0)
            if not count:
                continue
            h = count / peak * plot_h
            y -= h
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{colours[topic]}"><title>{at:%H:%M} '
                f"{escape(topic)}: {count}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="#333">{at:%H:%M}</text>'
            )
    for event in report.timeline:
        if event.kind not in ("status_update", "broadcast") or not report.volume:
            continue
        offset = (event.at - report.volume[0][0]) / report.bucket
        if 0 <= offset <= n:
            x = left + offset * bar_w
            colour = "#b00020" if event.kind == "status_update" else "#333"
            parts.append(
                f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{colour}" '
                f'stroke-width="1" stroke-dasharray="3 3"><title>{event.at:%H:%M} '
                f"{escape(event.kind)}: {escape(event.title)}</title></line>"
            )
    parts.append(
        f'<text x="{left}" y="{height - 6}" font-size="11" fill="#333">UTC; '
        f"{int(report.bucket.total_seconds() // 60)} min per bar; dashed: status updates "
        "(red) and broadcasts (grey)</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _chart_title(report: IncidentReport) -> str:
    return f"Questions by topic, {report.questions} in all"


def legend(report: IncidentReport) -> list[tuple[str, str, int]]:
    """(topic, colour, total) for the chart's legend."""
    totals: dict[str, int] = {}
    for _, counts in report.volume:
        for topic, count in counts.items():
            totals[topic] = totals.get(topic, 0) + count
    out = []
    for i, topic in enumerate(report.topics):
        colour = PALETTE[-1] if topic == "other" else PALETTE[min(i, len(PALETTE) - 1)]
        out.append((topic, colour, totals.get(topic, 0)))
    return out


def context(report: IncidentReport) -> dict[str, Any]:
    """What the report templates need."""
    return {"r": report, "chart": chart_svg(report), "legend": legend(report), "fmt": _fmt}


def _fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def render_file(report: IncidentReport, lang: str = "en") -> str:
    """The report as one standalone HTML file (stylesheet inlined)."""
    return _env.get_template("report_file.html").render(
        t=translator(lang), ui=lang, css=Markup(CSS_PATH.read_text(encoding="utf-8")),
        **context(report),
    )  # fmt: skip


def render_csv(report: IncidentReport) -> str:
    """One row per timeline event; columns :data:`bot.rhythm.report.CSV_COLUMNS`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in report.timeline:
        writer.writerow(
            [
                e.at.isoformat(),
                e.kind,
                e.title,
                e.status,
                e.detail,
                e.channel,
                "" if e.count is None else e.count,
            ]
        )
    return out.getvalue()


class ReportPages(AdminBase):
    """``GET /admin/report``: the incidents; ``GET /admin/report/{id}``: one's report."""

    def __init__(
        self,
        *,
        auth: AdminAuth,
        snapshot: Callable[[], StatusSnapshot | None],
        engine: sa.Engine,
        questions: QuestionLog | None = None,
        alerts: AlertBoard | None = None,
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._snapshot = snapshot
        self._engine = engine
        self._questions = questions

    def routes(self) -> list[BaseRoute]:
        """The report routes."""
        return [
            Route("/admin/report", self._page(self.incidents)),
            Route("/admin/report/{incident_id}", self._page(self.report)),
        ]

    async def incidents(self, request: Request) -> Response:
        """The incidents the app knows, to pick one."""
        known = await asyncio.to_thread(incidents_known, self._snapshot(), self._engine)
        return self._render(request, "report_list.html", {"incidents": known})

    async def report(self, request: Request) -> Response:
        """One incident's report (``?format=csv`` or ``html`` to download it)."""
        incident_id = request.path_params["incident_id"]
        try:
            report = await asyncio.to_thread(
                build_report,
                self._snapshot(),
                incident_id,
                engine=self._engine,
                questions=self._questions,
            )
        except UnknownIncident:
            return self._render(request, "message.html", {"message": "no_incident"}, 404)
        except StorageError as exc:
            return self._render(request, "message.html", {"error": str(exc)}, 503)
        fmt = request.query_params.get("format")
        name = f"incident-{_safe_name(incident_id)}"
        if fmt == "csv":
            return Response(
                render_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        if fmt == "html":
            return Response(
                render_file(report, ui_lang(request)),
                media_type="text/html; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.html"'},
            )
        return self._render(request, "report.html", context(report))


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:80]
