"""The console's landing dashboard, unanswered questions grouped by meaning, live templates.

Pages (least role in brackets): ``/admin`` the dashboard and ``/admin/dashboard.json``
its live data [viewer]; ``/admin/unanswered`` the groups [viewer] and their actions
(map to an entry, dismiss as not ours) [editor]; ``/admin/templates`` and one
template's page with preview per channel and history [viewer], its save, preview
and rollback [editor].
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.auth import AdminAuth
from bot.admin.forms import entry_to_form, form_to_dict
from bot.admin.i18n import ui_lang
from bot.admin.routes import AdminBase
from bot.broadcast.watcher import Broadcaster
from bot.console.groups import DISMISSED, MAPPED, Group, UnansweredGroups
from bot.console.templates_db import SAMPLE_VALUES, TemplateDb, TemplateRefused, TemplateReloader
from bot.core.languages import LANGUAGES
from bot.faq_service import FaqService
from bot.faqdb.codec import validate_edit
from bot.faqdb.errors import FaqStoreError
from bot.faqdb.store import FaqStore
from bot.periodic import Periodic
from bot.rhythm.alerts import AlertBoard
from bot.status.service import LiveStatusService
from bot.templates import TemplateStore
from faq_index.encoders import HashingEncoder
from faq_index.feedback import Feedback
from faq_index.index import MAX_CHOICES

logger = logging.getLogger(__name__)

# (minute, topic, count) of the questions asked since a time: the dashboard's chart.
QuestionRates = Callable[[datetime], list[tuple[datetime, str, int]]]
# A broadcast text as each channel shows it (bot.wiring.renderers()).
Renderers = Mapping[str, Callable[[str], tuple[str, ...]]]
PREVIEW_CHANNELS = ("web", "telegram", "slack")
CHART_HOURS = 3
GROUPS_SHOWN = 30
CATCH_UP = 200  # questions grouped at most per page view (the background loop does the rest)


@dataclass(kw_only=True)
class LiveTemplates:
    """The templates the app serves, their database and the reloader that swaps them."""

    store: TemplateStore
    db: TemplateDb
    reloader: TemplateReloader


class Grouper:
    """Groups new unanswered questions and finds their nearest entry (a ``Background``)."""

    def __init__(
        self, groups: UnansweredGroups, faq: FaqService, *, interval_s: float = 2.0
    ) -> None:
        self.groups = groups
        self._faq = faq
        self._interval_s = interval_s
        self._grams = HashingEncoder(dim=1024)
        self._loop = Periodic(
            self._step, interval_s=interval_s, name="unanswered-grouper", first_after_interval=True
        )
        # (newest id, count) of the staff verdicts the answer centre learnt
        self._taught: tuple[int, int] | None = None

    def faq_index_feedback(self) -> Feedback:
        """The staff verdicts the answer centre serves (or is about to) with."""
        return self._faq.index.feedback

    def teach(self, *, limit: int = 4000) -> bool:
        """Hand staff verdicts (groups mapped to an entry, or dismissed as not ours) to
        the answer center's calibration, when there are new ones; True if there were.

        Every replica does this from the shared ``faq_feedback`` table; the answer
        center keeps serving its current model until the recalibration swaps in.
        """
        mark = self.groups.feedback_mark()  # one cheap query per tick; rows only when new
        if mark == (self._taught or (0, 0)):
            return False
        rows = self.groups.feedback(limit=limit)
        positives = [
            (str(r["question"]), str(r["lang"]), str(r["faq_id"]))
            for r in rows
            if r["verdict"] == "mapped" and r["faq_id"]
        ]
        negatives = [
            (str(r["question"]), str(r["lang"])) for r in rows if r["verdict"] == "not_ours"
        ]
        self._faq.learn_from_staff(positives, negatives)
        self._taught = mark
        return True

    def catch_up(self, *, limit: int = CATCH_UP, nearest: int = 20) -> int:
        """Group up to ``limit`` waiting questions, then look up nearest entries."""
        done = self.groups.assign(self._embed, limit=limit)
        index = self._faq.index

        def near(text: str, lang: str) -> tuple[str, float] | None:
            # as deep as a customer's turn searched it: its matches are remembered
            found = index.search(text, lang, MAX_CHOICES)
            return (found[0].entry.id, found[0].score) if found else None

        self.groups.refresh_nearest(near, self._faq.revision, limit=nearest)
        return done

    def _embed(self, texts: list[str], lang: str) -> Any:
        """The encoder's vectors; for a language it does not know, with character n-grams.

        The default encoder (all-MiniLM-L6-v2) is English: Spanish questions about
        different things score as close as paraphrases. Hashed character n-grams (the
        FAQ index's lexical signal too) keep them apart; equal weights.
        """
        index = self._faq.index
        encoder = index.encoder
        # as searched moments ago: a question the FAQ could not answer is not encoded twice
        meaning = np.array(index.embed(texts), dtype=np.float32)
        if lang == "en" or "multilingual" in encoder.name.lower():
            return meaning
        spelling = self._grams.encode(texts)
        meaning /= np.maximum(np.linalg.norm(meaning, axis=1, keepdims=True), 1e-9)
        return np.hstack([meaning, spelling]) / np.sqrt(2.0)

    async def start(self) -> None:
        """Start grouping in the background."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop."""
        await self._loop.stop()

    async def _step(self) -> None:
        while await asyncio.to_thread(self.catch_up, limit=1000) >= 1000:
            pass
        await asyncio.to_thread(self.teach)


class ConsolePages(AdminBase):
    """Dashboard, grouped unanswered questions and live templates."""

    def __init__(
        self,
        *,
        auth: AdminAuth,
        faq_store: FaqStore,
        faq: FaqService,
        grouper: Grouper,
        templates: LiveTemplates | None = None,
        renderers: Renderers | None = None,
        status: LiveStatusService | None = None,
        broadcaster: Broadcaster | None = None,
        question_rates: QuestionRates | None = None,
        alerts: AlertBoard | None = None,
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._faq_store = faq_store
        self._faq = faq
        self._grouper = grouper
        self._groups = grouper.groups
        self._templates = templates
        self._renderers = renderers or {}
        self._status = status
        self._broadcaster = broadcaster
        self._rates = question_rates or self._groups.per_minute
        self._choices: tuple[int, list[tuple[str, str]]] | None = None

    def routes(self) -> list[BaseRoute]:
        """The console routes."""
        routes: list[BaseRoute] = [
            Route("/admin", self._page(self.dashboard)),
            Route("/admin/dashboard.json", self._page(self.dashboard_json)),
            Route("/admin/unanswered", self._page(self.unanswered)),
            Route(
                "/admin/unanswered/groups/{gid:int}/map",
                self._page(self.map_group, role="editor"),
                methods=["POST"],
            ),
            Route(
                "/admin/unanswered/groups/{gid:int}/dismiss",
                self._page(self.dismiss_group, role="editor"),
                methods=["POST"],
            ),
        ]
        if self._templates is not None:
            routes += [
                Route("/admin/templates", self._page(self.template_list)),
                Route("/admin/templates/{key}", self._page(self.template_page), methods=["GET"]),
                Route(
                    "/admin/templates/{key}",
                    self._page(self.template_save, role="editor"),
                    methods=["POST"],
                ),
                Route(
                    "/admin/templates/{key}/rollback",
                    self._page(self.template_rollback, role="editor"),
                    methods=["POST"],
                ),
            ]
        return routes

    # -- dashboard -----------------------------------------------------------

    async def dashboard(self, request: Request) -> Response:
        """The landing page; the old entries list links (``/admin?q=``) go to /admin/entries."""
        if "q" in request.query_params or "retired" in request.query_params:
            return RedirectResponse(f"/admin/entries?{request.url.query}", status_code=303)
        data = await asyncio.to_thread(self._dashboard_data, ui_lang(request))
        return self._render(request, "dashboard.html", {"d": data})

    async def dashboard_json(self, request: Request) -> Response:
        """What the dashboard shows, for its script to refresh the page every few seconds."""
        data = await asyncio.to_thread(self._dashboard_data, ui_lang(request))
        response = JSONResponse(data)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _dashboard_data(self, ui: str) -> dict[str, Any]:
        self._grouper.catch_up(nearest=5)  # the background grouper looks up the rest
        now = datetime.now(UTC)
        since = (now - timedelta(hours=CHART_HOURS)).replace(second=0, microsecond=0)
        overview = self._groups.overview(limit=5)
        data: dict[str, Any] = {
            "now": now.isoformat(),
            "told": self._told(),
            "incident": self._incident(),
            "rates": self._rate_series(since, now),
            "groups": [_group_json(g) for g in overview.groups],
            "open_groups": overview.open_groups,
            "subscribers": None,
            "broadcast": None,
        }
        if self._broadcaster is not None:
            counts = self._broadcaster.subscriptions.counts()
            data["subscribers"] = {k: v for k, v in sorted(counts.items()) if k != "retired"}
            last = self._broadcaster.outbox.progress(limit=1)
            if last:
                b = last[0]
                sent = b.counts.get("sent", 0)
                data["broadcast"] = {
                    "id": b.id,
                    "title": b.title or b.kind,
                    "created_at": b.created_at.isoformat(),
                    "recipients": b.recipients,
                    "sent": sent,
                    "failed": b.counts.get("failed", 0) + b.counts.get("retired", 0),
                    "waiting": b.counts.get("pending", 0) + b.counts.get("sending", 0),
                    "done": b.done,
                }
        return data

    def _told(self) -> list[dict[str, Any]]:
        if self._status is None:
            return []
        told = []
        for lang in LANGUAGES:
            answer = self._status.answer("", lang)
            told.append(
                {
                    "lang": lang,
                    "text": answer.text,
                    "phase": answer.phase,
                    "as_of": answer.as_of.isoformat() if answer.as_of else None,
                    "stale": answer.stale,
                }
            )
        return told

    def _incident(self) -> dict[str, Any] | None:
        snapshot = self._status.live.snapshot if self._status else None
        if snapshot is None:
            return None
        open_ = snapshot.open_incidents()
        if not open_:
            return None
        incident = open_[0]
        latest = incident.latest_update
        updated = incident.updated_at or (latest.created_at if latest else None)
        return {
            "name": incident.name,
            "status": str(incident.status.value),
            "updated_at": updated.isoformat() if updated else None,
            "link": incident.shortlink,
        }

    def _rate_series(self, since: datetime, now: datetime) -> dict[str, Any]:
        rows = self._rates(since)
        topics: dict[str, dict[str, int]] = {}
        for minute, topic, count in rows:
            key = minute.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
            topics.setdefault(topic, {})[key] = topics.get(topic, {}).get(key, 0) + count
        totals = sorted(topics, key=lambda t: -sum(topics[t].values()))
        shown = totals[:5]
        if len(totals) > 5:  # the rest as one line
            rest: dict[str, int] = {}
            for t in totals[5:]:
                for k, v in topics[t].items():
                    rest[k] = rest.get(k, 0) + v
            topics["…"] = rest
            shown.append("…")
        minutes = int((now - since).total_seconds() // 60) + 1
        return {
            "since": since.isoformat(),
            "minutes": minutes,
            "series": [
                {"topic": t, "points": sorted(topics[t].items()), "total": sum(topics[t].values())}
                for t in shown
            ],
        }

    # -- unanswered, grouped ---------------------------------------------------

    async def unanswered(self, request: Request) -> Response:
        """The biggest open groups, each with its nearest entry pre-selected."""
        overview = await asyncio.to_thread(self._overview)
        choices = await asyncio.to_thread(self._entry_choices)
        done = request.query_params.get("done")
        return self._render(
            request,
            "unanswered.html",
            {
                "overview": overview,
                "choices": choices,
                "new_link": _new_link,
                "done": done if done in ("mapped", "dismissed") else None,
            },
        )

    def _overview(self) -> Any:
        self._grouper.catch_up(nearest=5)  # the background grouper looks up the rest
        return self._groups.overview(limit=GROUPS_SHOWN)

    def _entry_choices(self) -> list[tuple[str, str]]:
        """Live entries (id, English question) for the selects; cached per FAQ revision."""
        revision = self._faq.revision
        if self._choices is None or self._choices[0] != revision:
            self._choices = (
                revision,
                [(e.id, e.question_for("en")[1]) for e in self._faq.index.entries],
            )
        return self._choices[1]

    async def map_group(self, request: Request) -> Response:
        """Add the group's distinct questions as paraphrases of an entry; answer them from now."""
        gid = request.path_params["gid"]
        faq_id = request.state.form.get("entry_id", "")
        group = await asyncio.to_thread(self._groups.group, gid)
        stored = await asyncio.to_thread(self._faq_store.get, faq_id)
        if group is None or stored is None or stored.retired:
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        if group.state != "open":
            return self._render(request, "message.html", {"error": _closed(group)}, 409)
        questions = await asyncio.to_thread(self._groups.questions, gid, limit=200)
        raw = entry_to_form(stored.entry)
        for lang in {q.lang for q in questions}:
            field = f"paraphrases_{lang}"
            if field not in raw:
                continue
            lines = raw[field].splitlines()
            have = {line.casefold() for line in lines} | {
                stored.entry.question.get(lang, "").casefold()
            }
            for q in questions:
                text = " ".join(q.text.split())
                if q.lang == lang and text and text.casefold() not in have:
                    lines.append(text)
                    have.add(text.casefold())
            raw[field] = "\n".join(lines)
        actor = self._actor(request)
        try:
            changed = validate_edit(form_to_dict(raw, base=stored.entry))
            await asyncio.to_thread(
                self._faq_store.update, changed, actor=actor, expected_version=stored.version
            )
        except FaqStoreError as exc:
            return self._render(request, "message.html", {"error": str(exc)}, 400)
        await asyncio.to_thread(
            self._groups.close, gid, state=MAPPED, actor=actor, questions=questions, faq_id=faq_id
        )
        await self._publish()
        return RedirectResponse("/admin/unanswered?done=mapped", status_code=303)

    async def dismiss_group(self, request: Request) -> Response:
        """Hide a group as "not ours" (its questions are kept with that verdict)."""
        gid = request.path_params["gid"]
        group = await asyncio.to_thread(self._groups.group, gid)
        if group is None:
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        questions = await asyncio.to_thread(self._groups.questions, gid, limit=1000)
        closed = await asyncio.to_thread(
            self._groups.close,
            gid,
            state=DISMISSED,
            actor=self._actor(request),
            questions=questions,
        )
        if not closed:
            return self._render(request, "message.html", {"error": _closed(group)}, 409)
        return RedirectResponse("/admin/unanswered?done=dismissed", status_code=303)

    async def _publish(self) -> None:
        try:
            await asyncio.to_thread(self._faq.refresh)
        except Exception as exc:  # noqa: BLE001 - saved; the reloader retries
            logger.error("console: saved, but the index did not refresh yet: %s", exc)

    # -- templates -------------------------------------------------------------

    def _live(self) -> LiveTemplates:
        assert self._templates is not None  # the routes exist only with templates
        return self._templates

    async def template_list(self, request: Request) -> Response:
        """Every template, by family, with its text in service."""
        live = self._live()
        texts, revision = await asyncio.to_thread(live.db.current)
        families: dict[str, list[tuple[str, dict[str, str]]]] = {}
        for key in sorted(texts):
            family = key.split(".", 1)[0] if "." in key else "conversation"
            families.setdefault(family, []).append((key, texts[key]))
        order = sorted(families, key=lambda f: (f not in ("status", "broadcast"), f))
        return self._render(
            request,
            "templates.html",
            {"families": [(f, families[f]) for f in order], "revision": revision},
        )

    async def template_page(self, request: Request) -> Response:
        """One template: its texts, a preview per channel, its versions."""
        return await self._template(request, request.path_params["key"])

    async def _template(
        self,
        request: Request,
        key: str,
        *,
        draft: dict[str, str] | None = None,
        refused: str | None = None,
        status: int = 200,
    ) -> Response:
        live = self._live()
        if not live.db.known(key):
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        history = await asyncio.to_thread(live.db.history, key)
        current = history[0].texts if history else live.db.file_texts().get(key, {})
        shown = {**current, **(draft or {})}
        context = {
            "key": key,
            "texts": shown,
            "langs": sorted(set(LANGUAGES) | set(shown)),
            "history": history,
            "version": history[0].id if history else 0,
            "allowed": sorted(live.db.allowed(key)),
            "previews": None if refused else self._previews(shown),
            "refused": refused,
            "draft": draft is not None and refused is None,
            "saved": request.query_params.get("saved") == "1",
        }
        return self._render(request, "template_edit.html", context, status)

    def _previews(
        self, texts: Mapping[str, str]
    ) -> list[tuple[str, list[tuple[str, tuple[str, ...]]]]]:
        """Per language, the sample text as each chat channel would show it."""
        out = []
        for lang, text in sorted(texts.items()):
            filled = text.format_map(_Samples(SAMPLE_VALUES))
            per_channel = [
                (name, self._renderers[name](filled) if name in self._renderers else (filled,))
                for name in PREVIEW_CHANNELS
            ]
            out.append((lang, per_channel))
        return out

    async def template_save(self, request: Request) -> Response:
        """Preview a draft, or save it as a new version, live on every replica within a second."""
        key = request.path_params["key"]
        live = self._live()
        if not live.db.known(key):
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        form = request.state.form
        draft = {lang[5:]: v for lang, v in form.items() if lang.startswith("text_")}
        draft = {lang: v for lang, v in draft.items() if lang in LANGUAGES}
        try:
            if form.get("action") == "preview":
                live.db.check(key, draft)
                return await self._template(request, key, draft=draft)
            await asyncio.to_thread(
                live.db.save,
                key,
                draft,
                actor=self._actor(request),
                expected=_int(form.get("version")),
            )
        except TemplateRefused as exc:
            return await self._template(request, key, draft=draft, refused=str(exc), status=400)
        await asyncio.to_thread(live.reloader.refresh)
        return RedirectResponse(f"/admin/templates/{quote(key)}?saved=1", status_code=303)

    async def template_rollback(self, request: Request) -> Response:
        """Put an earlier version back in service."""
        key = request.path_params["key"]
        live = self._live()
        version = _int(request.state.form.get("version_id"))
        if not live.db.known(key) or version is None:
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        try:
            await asyncio.to_thread(live.db.rollback, key, version, actor=self._actor(request))
        except TemplateRefused as exc:
            return await self._template(request, key, refused=str(exc), status=400)
        await asyncio.to_thread(live.reloader.refresh)
        return RedirectResponse(f"/admin/templates/{quote(key)}?saved=1", status_code=303)


class _Samples(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _group_json(g: Group) -> dict[str, Any]:
    return {
        "id": g.id,
        "lang": g.lang,
        "count": g.count,
        "examples": list(g.examples),
        "first_seen": g.first_seen.isoformat(),
        "last_seen": g.last_seen.isoformat(),
        "nearest": g.nearest_faq_id,
    }


def _closed(group: Group) -> str:
    return f"This group was already {group.state}."


def _new_link(group: Group) -> str:
    question = group.examples[0] if group.examples else ""
    query = {
        "question": question,
        "lang": group.lang,
        "paraphrases": "\n".join(group.examples[1:]),
        "group": str(group.id),
    }
    return "/admin/entries/new?" + urlencode(query)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
