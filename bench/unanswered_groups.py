"""Benchmark the grouped "Unanswered" page with 100,000 recorded questions.

Loads N unanswered questions (default 100,000: paraphrase-like variants of a few
hundred intents, en and es, plus noise, asked over the last 6 hours), groups them
with the app's encoder (as the app's background grouper does, timed), then
serves the admin over HTTP (uvicorn on loopback) and times the grouped page
``/admin/unanswered``, the dashboard ``/admin`` and its live data
``/admin/dashboard.json`` as a signed-in browser would fetch them. Prints figures.

    .venv/bin/python bench/unanswered_groups.py [--questions 100000] [--views 20]
        [--model NAME] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--keep .faro/bench/unanswered.db]

``--keep`` keeps the SQLite file: a second run skips loading and grouping (minutes
with the default encoder on a small machine) and only times the pages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette

from bot.admin import Grouper, admin_routes
from bot.console.groups import UnansweredGroups
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.store import AppStore, unanswered
from faq_index import load_encoder

FAQ = Path(__file__).resolve().parent.parent / "data" / "faq"
PASSWORD = "bench-password-not-secret"

# Intents: a thing a customer has trouble with, times what goes wrong with it.
THINGS_EN = [
    "card",
    "debit card",
    "credit card",
    "transfer",
    "direct debit",
    "standing order",
    "mobile app",
    "online banking",
    "ATM",
    "contactless payment",
    "Apple Pay",
    "Google Pay",
    "salary",
    "refund",
    "loan payment",
    "mortgage payment",
    "savings account",
    "PIN",
    "statement",
    "overdraft",
    "international transfer",
    "cheque deposit",
    "login code",
    "card reader",
    "business account",
    "joint account",
    "pension payment",
    "phone banking",
    "branch",
    "chatbot",
]
THINGS_ES = [
    "tarjeta",
    "tarjeta de débito",
    "tarjeta de crédito",
    "transferencia",
    "domiciliación",
    "orden permanente",
    "app",
    "banca online",
    "cajero",
    "pago sin contacto",
    "Bizum",
    "nómina",
    "reembolso",
    "préstamo",
    "hipoteca",
    "cuenta de ahorro",
    "PIN",
    "extracto",
    "descubierto",
    "transferencia internacional",
    "ingreso de cheque",
    "código de acceso",
    "cuenta de empresa",
    "cuenta conjunta",
    "pensión",
    "banca telefónica",
    "oficina",
    "chatbot",
    "lector de tarjetas",
    "tarjeta virtual",
]
PROBLEMS_EN = [
    ["my {t} does not work", "{t} not working", "why is my {t} not working", "{t} broken?"],
    ["my {t} was declined", "{t} rejected", "why was my {t} refused", "{t} keeps getting declined"],
    ["where is my {t}", "{t} has not arrived", "{t} missing", "still waiting for my {t}"],
    ["how do I cancel my {t}", "cancel {t}", "I want to stop my {t}", "stop the {t} please"],
    ["was my {t} charged twice", "double charge on {t}", "{t} taken twice", "{t} paid two times"],
    ["{t} is very slow", "why is the {t} so slow today", "{t} delayed", "{t} taking ages"],
]
PROBLEMS_ES = [
    ["mi {t} no funciona", "{t} no va", "¿por qué no funciona mi {t}?", "¿{t} roto?"],
    ["me han rechazado la {t}", "{t} rechazada", "¿por qué me rechazan la {t}?", "{t} denegada"],
    ["¿dónde está mi {t}?", "no me ha llegado la {t}", "{t} perdida", "sigo esperando la {t}"],
    ["¿cómo cancelo la {t}?", "cancelar {t}", "quiero anular la {t}", "anulad la {t} por favor"],
    ["¿me cobraron dos veces la {t}?", "cobro doble en {t}", "{t} cobrada dos veces", "{t} x2"],
    ["la {t} va muy lenta", "¿por qué va tan lenta la {t} hoy?", "{t} con retraso", "{t} tarda"],
]
PREFIX_EN = ["", "", "", "", "hi, "]
SUFFIX_EN = ["", "", "", "?", " today"]
PREFIX_ES = ["", "", "", "", "hola, "]
SUFFIX_ES = ["", "", "", "?", " hoy"]
NOISE = (
    "banana weather football pizza holiday recipe guitar moon traffic election "
    "perro gato playa fiesta lluvia coche música película cumpleaños tortilla"
).split()


def questions(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (text, lang): intents asked with Zipf-like popularity, 0.5 % noise.

    360 intents (30 things x 6 problems in each language), 4 wordings each, with or
    without a greeting and a trailing "?"/"today": up to 24 distinct texts an intent.
    """
    intents: list[tuple[str, list[str], list[str], list[str], str]] = []
    for things, problems, pre, suf, lang in (
        (THINGS_EN, PROBLEMS_EN, PREFIX_EN, SUFFIX_EN, "en"),
        (THINGS_ES, PROBLEMS_ES, PREFIX_ES, SUFFIX_ES, "es"),
    ):
        for t in things:
            for forms in problems:
                intents.append((t, forms, pre, suf, lang))
    rng.shuffle(intents)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(intents))]
    out: list[tuple[str, str]] = []
    for _ in range(n):
        if rng.random() < 0.005:
            words = rng.sample(NOISE, rng.randint(2, 5))
            out.append((" ".join(words) + rng.choice(["", "?"]), rng.choice(["en", "es"])))
            continue
        t, forms, pre, suf, lang = rng.choices(intents, weights)[0]
        text = rng.choice(pre) + rng.choice(forms).format(t=t) + rng.choice(suf)
        if rng.random() < 0.3:
            text = text.capitalize()
        out.append((text, lang))
    return out


def load(engine: sa.Engine, items: list[tuple[str, str]], rng: random.Random) -> None:
    """Insert the questions as the app records them, spread over the last 6 hours."""
    now = datetime.now(UTC)
    rows = [
        {
            "asked_at": now - timedelta(seconds=rng.uniform(0, 6 * 3600)),
            "conversation_id": f"bench-{i % 20_000}",
            "lang": lang,
            "text": text,
            "normalized": " ".join(text.lower().split())[:500],
        }
        for i, (text, lang) in enumerate(items)
    ]
    rows.sort(key=lambda r: r["asked_at"])
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(unanswered.insert(), rows[start : start + 10_000])


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(server.serve(sockets=[sock])), daemon=True
    )
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(client: httpx.Client) -> None:
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, "no CSRF token on the login page"
    done = client.post(
        "/admin/login", data={"csrf": csrf.group(1), "name": "bench", "password": PASSWORD}
    )
    assert done.status_code in (200, 303), done.status_code


def timed(client: httpx.Client, path: str, views: int) -> tuple[list[float], float]:
    """Wall time of each view, and the CPU time per view (this process: server and client)."""
    times = []
    cpu = time.process_time()
    for _ in range(views):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return times, (time.process_time() - cpu) / views


def report(label: str, measured: tuple[list[float], float]) -> None:
    times, cpu = measured
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(
        f"  {label:<24} median {statistics.median(times) * 1000:7.1f} ms   "
        f"p95 {p95 * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms   "
        f"CPU {cpu * 1000:6.1f} ms/view"
    )


def run(url: str, n: int, views: int, model: str | None) -> None:
    rng = random.Random(15)
    store = AppStore(Database.open(url).engine)
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(unanswered)).scalar_one()
    faq_store = FaqStore(store.engine)
    encoder = load_encoder(model)
    with tempfile.TemporaryDirectory() as cache:
        faq = FaqService.from_store(
            faq_store, encoder=encoder, store=store, seed_paths=[FAQ], cache_dir=Path(cache)
        )
    grouper = Grouper(UnansweredGroups(store.engine), faq)
    if kept:
        print(f"{kept:,} questions kept from an earlier run (--keep), grouped then")
    else:
        load_and_group(store, grouper, faq, n, rng)
    serve_and_time(store, faq_store, faq, grouper, views)
    store.dispose()


def load_and_group(
    store: AppStore, grouper: Grouper, faq: FaqService, n: int, rng: random.Random
) -> None:
    items = questions(n, rng)
    distinct = len({(" ".join(t.lower().split()), lang) for t, lang in items})
    start = time.perf_counter()
    load(store.engine, items, rng)
    took = time.perf_counter() - start
    print(f"{n:,} questions ({distinct:,} distinct texts) loaded in {took:.1f} s")
    start, cpu = time.perf_counter(), time.process_time()
    while grouper.catch_up(limit=5000, nearest=200):
        pass
    while grouper.groups.refresh_nearest(
        lambda t, lang: (lambda m: (m[0].entry.id, m[0].score) if m else None)(
            faq.index.search(t, lang, 1)
        ),
        faq.revision,
        limit=500,
    ):
        pass
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    overview = grouper.groups.overview(limit=30)
    print(
        f"grouped in {wall:.1f} s wall, {cpu:.1f} s CPU ({n / wall:,.0f} questions/s; "
        f"{distinct / wall:,.0f} distinct texts/s embedded or matched): "
        f"{overview.open_groups:,} groups, biggest {overview.groups[0].count:,}"
    )


def serve_and_time(
    store: AppStore, faq_store: FaqStore, faq: FaqService, grouper: Grouper, views: int
) -> None:
    routes = admin_routes(
        password=PASSWORD,
        token=None,
        session_secret="bench-session-secret",
        faq_store=faq_store,
        faq=faq,
        app_store=store,
        grouper=grouper,
    )
    with served(Starlette(routes=routes)) as base, httpx.Client(base_url=base) as client:
        sign_in(client)
        timed(client, "/admin/unanswered", 2)  # warm up (templates compiled, caches)
        print(f"over HTTP, {views} views each (signed in, loopback):")
        report("/admin/unanswered", timed(client, "/admin/unanswered", views))
        report("/admin (dashboard)", timed(client, "/admin", views))
        report("/admin/dashboard.json", timed(client, "/admin/dashboard.json", views))
        # one more question arrives: grouped on the next view, the page stays fast
        store.record_unanswered("my debit card does not work at all", "en", conversation_id="x")
        report("after a new question", timed(client, "/admin/unanswered", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--model", default=None, help="encoder (default: the app's)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument(
        "--keep", type=Path, default=None, help="SQLite file kept between runs (grouped once)"
    )
    args = parser.parse_args()
    if args.keep:
        args.keep.parent.mkdir(parents=True, exist_ok=True)
        print(f"SQLite {args.keep}")
        run(f"sqlite:///{args.keep}", args.questions, args.views, args.model)
        return
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        try:
            url = f"{args.postgres}?options=-csearch_path%3D{schema}"
            print(f"PostgreSQL (schema {schema})")
            run(url, args.questions, args.views, args.model)
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        return
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite")
        run(f"sqlite:///{folder}/app.db", args.questions, args.views, args.model)


if __name__ == "__main__":
    main()
