"""Faro's speed-ups for Rasa 3.6, installed into the Rasa environment by scripts/setup.

1. Rasa validates every reply of the action server with
   ``jsonschema.validate(result, schema)``, and ``jsonschema.validate`` first
   checks the *schema* against its meta-schema, on every call. Rasa's schema
   never changes, so that check is repeated work: measured here it was the
   largest single cost of a custom-action turn inside Rasa (bench/README.md).
   Importing this module makes ``jsonschema.validate`` check each distinct
   schema once and reuse the validator; what is validated, and the errors
   raised, are unchanged.
2. :class:`SQLiteTrackerStore`, Rasa's SQL tracker store on SQLite with one
   kept-open connection in WAL mode. Rasa's own opens and closes a SQLite
   connection for every query (SQLAlchemy 1.4 gives file databases no pool)
   and commits in rollback-journal mode: several fsyncs per turn. Retrieve
   and save run Rasa's queries as plain SQL (no ORM session per call); the
   table and its rows are Rasa's. Selected in endpoints.yml with
   ``type: faro_rasa_speedups.SQLiteTrackerStore``.
3. When Rasa builds that store (so: in a Rasa server Faro runs), two
   run-time patches (:func:`install_runtime_patches`), measured at ~25% of
   Rasa's CPU per FAQ turn together:

   - Rasa runs its graphs (NLU, then each action prediction) with dask's
     synchronous scheduler, which rebuilds and orders a task graph on every
     call. :func:`_sequential_run` runs the same nodes in a dependency order
     computed once per target set, with the same inputs and outputs.
   - Rasa opens a new aiohttp session, so a new TCP connection, for every
     call to the action server. :func:`_pooled_request` is Rasa's
     ``EndpointConfig.request`` on one kept session per endpoint (connections
     are kept 4 s, under the app server's 5 s keep-alive).
4. With them, per-turn work Rasa repeats for nothing (:func:`_install_turn_patches`;
   unseen questions, in-process: NLU parse 1.97 -> 1.10 ms, a turn without its
   action call 3.8 -> 2.6 ms, same outputs; bench/README.md, "Rasa CPU per turn"):

   - ``CountVectorsFeaturizer`` computes per-token (sequence) features next to
     the sentence features; when every node of the model's graph is one known
     not to read them (:data:`_SENTENCE_ONLY_GRAPH`: Faro's pipeline and
     RulePolicy), they are left out, as for an empty text;
   - ``LogisticRegressionClassifier._create_X`` builds the same CSR matrix
     without two rounds of sparse stacking per message;
   - ``Event.resolve_by_type`` (every stored event, on every retrieve) looks
     the class up in a table instead of walking all Event subclasses;
   - ``Domain.is_empty`` (every parse) compares with the empty domain built
     once instead of once per call;
   - the processor's and RulePolicy's deep copies of debug-log arguments are
     made only when Rasa logs at DEBUG.
5. :class:`PostgreSQLTrackerStore` (the scale-out's, ``type:
   faro_rasa_speedups.PostgreSQLTrackerStore``): Rasa's SQL store with each
   pooled connection checked before use, so a PostgreSQL restart does not
   hand a dead connection to the next turn; and with either store, a tracker
   that cannot be read fails the turn (the app says "try again in a moment")
   instead of Rasa's ``FailSafeTrackerStore`` starting the conversation over
   (:func:`_install_tracker_read_patch`).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_MAX_SCHEMAS = 256
_validators: dict[str, Any] = {}
_original_validate = jsonschema.validate


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema checked once per distinct schema."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        _original_validate(instance, schema, cls, *args, **kwargs)
        return
    validator = _validators.get(key)
    if validator is None:
        validator_cls = cls or validator_for(schema)
        validator_cls.check_schema(schema)
        validator = validator_cls(schema, *args, **kwargs)
        if len(_validators) < _MAX_SCHEMAS:
            _validators[key] = validator
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = validate


def __getattr__(name: str) -> Any:
    """Build ``SQLiteTrackerStore`` on first use (PEP 562).

    This module is imported at every interpreter start of the Rasa
    environment; Rasa itself is imported only when Rasa asks for the store.
    """
    builders = {
        "SQLiteTrackerStore": _build_store_class,
        "PostgreSQLTrackerStore": _build_postgres_store_class,
    }
    if name not in builders:
        raise AttributeError(name)
    store = builders[name]()
    globals()[name] = store
    return store


def install_runtime_patches() -> None:
    """Patch Rasa's graph runner and endpoint requests (see the module docstring)."""
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.utils.endpoints import EndpointConfig

    if _originals:
        return
    _originals.update(run=DaskGraphRunner.run, request=EndpointConfig.request)
    DaskGraphRunner.run = _sequential_run
    EndpointConfig.request = _pooled_request
    _install_turn_patches()
    _install_tracker_read_patch()


def _install_tracker_read_patch() -> None:
    """A tracker that cannot be read fails the turn instead of starting the conversation over.

    Rasa wraps every tracker store in ``FailSafeTrackerStore``, whose ``retrieve``
    answers "no such conversation" (None) when the store raises. Rasa then runs
    the turn as the first of a new conversation: a session start in the middle of
    it, the customer's earlier turns out of reach of the policies, and the
    tracker endpoint answering with an empty conversation. Faro's app already
    turns a failed turn (Rasa's REST channel answers nothing) into an honest
    "try again in a moment"; so the read error goes through, as Rasa does for any
    other failure inside a turn. Saving keeps Rasa's fallback.
    """
    from rasa.core.tracker_store import FailSafeTrackerStore

    _originals.update(
        failsafe_retrieve=FailSafeTrackerStore.retrieve,
        failsafe_retrieve_full=FailSafeTrackerStore.retrieve_full_tracker,
    )

    async def retrieve(self: Any, sender_id: str) -> Any:
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self: Any, sender_id: str) -> Any:
        return await self._tracker_store.retrieve_full_tracker(sender_id)

    FailSafeTrackerStore.retrieve = retrieve
    FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker


_originals: dict[str, Any] = {}


def _install_turn_patches() -> None:
    """Per-turn work Rasa repeats for nothing (module docstring, item 4)."""
    import types

    import rasa.core.policies.rule_policy
    import rasa.core.processor
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event

    _originals.update(
        resolve_by_type=Event.__dict__["resolve_by_type"],
        is_empty=Domain.is_empty,
        create_features=CountVectorsFeaturizer._create_features,
        create_x=LogisticRegressionClassifier._create_X,
    )
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    Domain.is_empty = _domain_is_empty
    CountVectorsFeaturizer._create_features = _create_features
    LogisticRegressionClassifier._create_X = _create_x
    # Their only deep copies are of the arguments of debug log calls.
    log_copy = types.SimpleNamespace(deepcopy=_deepcopy_if_debug)
    rasa.core.processor.copy = log_copy  # type: ignore[attr-defined]
    rasa.core.policies.rule_policy.copy = log_copy  # type: ignore[attr-defined]


_event_classes: dict[str, Any] = {}


def _resolve_by_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type`` from a table, not a walk of all Event subclasses per event."""
    cls = _event_classes.get(type_name)
    if cls is not None:
        return cls
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    if not _event_classes:
        for sub in all_subclasses(Event):  # the first match wins, as in Rasa's loop
            _event_classes.setdefault(sub.type_name, sub)
        if type_name in _event_classes:
            return _event_classes[type_name]
    return _originals["resolve_by_type"].__func__(type_name, default)


_empty_domain: list[dict[str, Any]] = []


def _domain_is_empty(self: Any) -> bool:
    """``Domain.is_empty`` against the empty domain's dict built once, not once per turn."""
    if not _empty_domain:
        from rasa.shared.core.domain import Domain

        _empty_domain.append(Domain.empty().as_dict())
    return bool(self.as_dict() == _empty_domain[0])


def _deepcopy_if_debug(value: Any, memo: Any = None) -> Any:
    """``copy.deepcopy`` when Rasa logs at DEBUG; otherwise the value (the log call drops it)."""
    import copy
    import logging

    if logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
        return copy.deepcopy(value, memo)
    return value


# The components of a predict graph known not to read sequence features: with
# only these, CountVectorsFeaturizer's per-token (sequence) features at
# inference are computed and never read (LogisticRegressionClassifier reads
# the sentence features; no entity extractor, DIET or TED is in the graph).
_SENTENCE_ONLY_GRAPH = {
    ("NLUMessageConverter", "convert_user_message"),
    ("WhitespaceTokenizer", "process"),
    ("CountVectorsFeaturizer", "process"),
    ("LogisticRegressionClassifier", "process"),
    ("FallbackClassifier", "process"),
    ("RegexMessageHandler", "process"),
    ("DomainProvider", "provide_inference"),
    ("RulePolicy", "predict_action_probabilities"),
    ("RuleOnlyDataProvider", "provide"),
    ("DefaultPolicyPredictionEnsemble", "combine_predictions_from_kwargs"),
}


def _mark_sentence_only(runner: Any) -> None:
    """Let the graph's CountVectorsFeaturizers skip sequence features no node reads."""
    nodes = runner._graph_schema.nodes
    if not all((n.uses.__name__, n.fn) in _SENTENCE_ONLY_GRAPH for n in nodes.values()):
        return
    for name, node in nodes.items():
        if node.uses.__name__ == "CountVectorsFeaturizer":
            component = getattr(runner._instantiated_nodes.get(name), "_component", None)
            if component is not None:
                component.__dict__["_faro_sentence_only"] = True


def _create_features(self: Any, attribute: str, all_tokens: list[list[str]]) -> Any:
    """``CountVectorsFeaturizer._create_features``; the sequence features are left out
    (None, as for an empty text) when the graph marked this featurizer sentence-only."""
    from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES

    if (
        not self.__dict__.get("_faro_sentence_only")
        or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES
        or not self.vectorizers.get(attribute)
    ):
        return _originals["create_features"](self, attribute, all_tokens)
    sequence_features: list[Any] = []
    sentence_features: list[Any] = []
    for tokens in all_tokens:
        sequence_features.append(None)
        if not tokens:
            sentence_features.append(None)
            continue
        sentence_vec = self.vectorizers[attribute].transform([" ".join(tokens)])
        sentence_vec.sort_indices()
        sentence_features.append(sentence_vec.tocoo())
    return sequence_features, sentence_features


def _create_x(self: Any, messages: list[Any]) -> Any:
    """``LogisticRegressionClassifier._create_X`` for messages with sparse sentence
    features only: the same matrix (float64 CSR, same entries in the same order)
    without stacking each row with an empty dense block and then stacking the rows."""
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.constants import TEXT

    rows = []
    for message in messages:
        sparse = message.get_sparse_features(attribute=TEXT)[1]
        if sparse is None or message.get_dense_features(attribute=TEXT)[1] is not None:
            return _originals["create_x"](self, messages)
        rows.append(sparse.features)
    if len(rows) != 1:
        return _originals["create_x"](self, messages)
    x = scipy.sparse.csr_matrix(rows[0], dtype=np.float64)  # sums duplicates
    x.sort_indices()
    return x


def _sequential_run(
    self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: the nodes in dependency order, in this thread."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    plans = self.__dict__.setdefault("_faro_plans", {})
    plan = plans.get(tuple(run_targets))
    if plan is None:
        plan = plans[tuple(run_targets)] = _plan(self._graph_schema, run_targets)
        _mark_sentence_only(self)
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in plan.names:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[name] = (name, value)  # what dask hands a node for an input
    try:
        for name, needs in plan.steps:
            if name not in values:  # an input replaces a node of the same name
                args = [values.get(n, n) for n in needs]  # dask passes unknown keys as is
                values[name] = self._instantiated_nodes[name](*args)
        return dict(values[t] for t in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


class _Plan:
    """The nodes a target set needs, each after what it needs."""

    def __init__(self, steps: list[tuple[str, list[str]]]) -> None:
        self.steps = steps
        self.names = {name for name, _ in steps}


def _plan(schema: Any, targets: list[str]) -> _Plan:
    minimal = schema.minimal_graph_schema(targets)
    nodes = minimal.nodes
    steps: list[tuple[str, list[str]]] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name not in nodes:
            return
        if name in path:
            raise ValueError(f"the graph has a cycle through {name!r}")
        for need in nodes[name].needs.values():
            visit(need, (*path, name))
        done.add(name)
        steps.append((name, list(nodes[name].needs.values())))

    for name in nodes:
        visit(name, ())
    return _Plan(steps)


async def _pooled_request(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """Rasa 3.6's ``EndpointConfig.request``, on a kept session instead of one per call.

    A plain JSON POST over http (each action call) goes through :func:`_lean_post`.
    """
    import asyncio

    if (
        method.lower() == "post"
        and content_type == "application/json"
        and not compress
        and not self.cafile
        and not self.basic_auth
        and "json" in kwargs
        and set(kwargs) <= {"json", "timeout", "params", "headers"}
        and self.url.startswith("http://")
        and not _FIXED_HEADERS & {h.lower() for h in [*kwargs.get("headers", ()), *self.headers]}
    ):
        return await _lean_post(self, subpath, **kwargs)

    import aiohttp
    from aiohttp.client_exceptions import ContentTypeError
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import ClientResponseError, concat_url

    if self.cafile:  # rare: Rasa's own code, which loads the CA file on every call
        original = _originals["request"]
        return await original(self, method, subpath, content_type, compress, **kwargs)
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs.pop("headers"))
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    loop = asyncio.get_running_loop()
    session = self.__dict__.get("_faro_session")
    if session is None or session.closed or self.__dict__.get("_faro_loop") is not loop:
        auth = None
        if self.basic_auth:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=4),
        )
        self.__dict__.update(_faro_session=session, _faro_loop=loop)
    async with session.request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(
                response.status, response.reason, await response.content.read()
            )
        try:
            return await response.json()
        except ContentTypeError:
            return None


_FIXED_HEADERS = {
    "host", "accept", "accept-encoding", "user-agent", "content-type", "content-length"
}  # fmt: skip
_KEEP_IDLE_S = 4.0  # under the app server's 5 s keep-alive, as the aiohttp session's


async def _lean_post(
    self: Any,
    subpath: str | None,
    json: Any,  # noqa: A002 - Rasa's keyword
    timeout: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """One JSON POST as aiohttp's session would make it, on a kept HTTP/1.1 connection.

    aiohttp writes the head and the body in two sends (the body from a task of
    its own) and builds request and response objects around them: ~10% of
    Rasa's CPU per turn (bench/README.md). Here the request is one buffer and
    one send, the response is parsed by httptools (the parser Sanic uses).
    Same headers, same query string (yarl), same results and errors as
    :func:`_pooled_request` on aiohttp: the answer's JSON (None when it is
    not JSON or empty), Rasa's ``ClientResponseError`` for a status >= 400,
    ``aiohttp.ClientConnectionError`` when the connection fails or closes,
    ``asyncio.TimeoutError`` after ``timeout`` seconds (Rasa's 300 s default).
    """
    import asyncio
    import time

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import ClientResponseError, concat_url

    loop = asyncio.get_running_loop()
    target = self.__dict__.get("_faro_lean")
    query = self.combine_parameters({"params": params} if params else {})
    key = (subpath, tuple(query.items()))
    if target is None or target[0] is not loop:
        target = (loop, {}, [])  # loop, request heads by (subpath, query), idle connections
        self.__dict__["_faro_lean"] = target
    _, heads, idle = target
    head = heads.get(key)
    if head is None:
        head = heads[key] = _request_head(concat_url(self.url, subpath), query)
    extra = dict(headers or {})
    if self.headers:
        extra.update(self.headers)
    body = _dumps(json).encode("utf-8")
    lines = [head[0], f"Content-Length: {len(body)}\r\n"]
    lines += [f"{k}: {v}\r\n" for k, v in extra.items()]
    request = "".join(lines).encode("latin-1") + b"\r\n" + body

    conn = None
    now = time.monotonic()
    while idle:
        candidate, since = idle.pop()
        if not candidate.closed and now - since < _KEEP_IDLE_S:
            conn = candidate
            break
        candidate.close()
    try:
        async with _timeout(timeout or DEFAULT_REQUEST_TIMEOUT):
            if conn is None:
                try:
                    _, conn = await loop.create_connection(
                        lambda: _LeanConnection(loop), head[1], head[2]
                    )
                except OSError as exc:
                    raise aiohttp.ClientConnectionError(
                        f"Cannot connect to host {head[1]}:{head[2]} [{exc.strerror}]"
                    ) from exc
            status, reason, resp_headers, data, keep = await conn.exchange(request)
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    if keep and not conn.closed:
        idle.append((conn, time.monotonic()))
    else:
        conn.close()
    encoding = resp_headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("gzip", "deflate"):
        import zlib

        data = zlib.decompress(data, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    if status >= 400:
        raise ClientResponseError(status, reason, data)
    ctype = resp_headers.get("content-type", "").lower()
    if _JSON_TYPE.match(ctype) is None:
        return None  # aiohttp's ContentTypeError, which Rasa's request turns into None
    stripped = data.strip()
    if not stripped:
        return None
    import json as json_module

    return json_module.loads(stripped.decode(_charset(ctype)))


def _request_head(url: str, query: dict[str, Any]) -> tuple[str, str, int]:
    """The request line and fixed headers aiohttp sends for a JSON POST to ``url``."""
    from aiohttp.http import SERVER_SOFTWARE
    from multidict import MultiDict
    from yarl import URL

    parsed = URL(url)
    if query:  # as aiohttp's ClientRequest merges ``params`` into the URL's query
        merged = MultiDict(parsed.query)
        merged.extend(parsed.with_query(query).query)
        parsed = parsed.with_query(merged)
    host = parsed.raw_host or "localhost"
    port = parsed.port or 80
    netloc = host if parsed.is_default_port() else f"{host}:{port}"
    line = (
        f"POST {parsed.raw_path_qs} HTTP/1.1\r\nHost: {netloc}\r\nAccept: */*\r\n"
        f"Accept-Encoding: gzip, deflate\r\nUser-Agent: {SERVER_SOFTWARE}\r\n"
        "Content-Type: application/json\r\n"
    )
    return line, host, port


def _timeout(seconds: float) -> Any:
    import asyncio

    return asyncio.timeout(seconds) if hasattr(asyncio, "timeout") else _AsyncTimeout(seconds)


class _AsyncTimeout:
    """``asyncio.timeout`` for Python 3.10: cancel the task after ``seconds``, then time out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.handle: Any = None
        self.fired = False

    async def __aenter__(self) -> None:
        import asyncio

        task = asyncio.current_task()
        assert task is not None

        def fire() -> None:
            self.fired = True
            task.cancel()

        self.handle = asyncio.get_running_loop().call_later(self.seconds, fire)

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        import asyncio

        self.handle.cancel()
        if self.fired and exc_type is asyncio.CancelledError:
            raise asyncio.TimeoutError from exc  # noqa: UP041 - not the builtin on 3.10


class _LeanConnection:
    """One kept HTTP/1.1 client connection: a request out, its response parsed by httptools."""

    def __init__(self, loop: Any) -> None:
        import httptools

        self.loop = loop
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.waiter: Any = None
        self._reset()

    def _reset(self) -> None:
        self.reason = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.headers_done = False

    # asyncio.Protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        import httptools

        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(_disconnected(f"invalid HTTP response: {exc}"))
            self.close()

    def eof_received(self) -> None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        framed = "content-length" in self.headers or "chunked" in self.headers.get(
            "transfer-encoding", ""
        )
        if self.headers_done and not framed and self.waiter is not None:
            self.on_message_complete()  # a body delimited by the end of the connection
        self._fail(_disconnected("Server disconnected"))

    def pause_writing(self) -> None:
        return None

    def resume_writing(self) -> None:
        return None

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        keep = not self.closed and self.parser.should_keep_alive()
        result = (
            self.parser.get_status_code(),
            self.reason.decode("latin-1"),
            self.headers,
            b"".join(self.body),
            keep,
        )
        self._reset()
        if waiter is not None and not waiter.done():
            waiter.set_result(result)

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    async def exchange(self, request: bytes) -> tuple[int, str, dict[str, str], bytes, bool]:
        if self.closed:
            raise _disconnected("Server disconnected")
        self.waiter = self.loop.create_future()
        self.transport.write(request)
        result: tuple[int, str, dict[str, str], bytes, bool] = await self.waiter
        return result

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _disconnected(message: str) -> Exception:
    import aiohttp

    return aiohttp.ServerDisconnectedError(message)


_JSON_TYPE = __import__("re").compile(r"^application/(?:[\w.+-]+?\+)?json")


def _charset(content_type: str) -> str:
    """The response's charset as aiohttp finds it (UTF-8 unless the header names one)."""
    import codecs

    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip() == "charset" and value:
            try:
                return codecs.lookup(value.strip().strip('"')).name
            except LookupError:
                break
    return "utf-8"


def _dumps(value: Any) -> str:
    """JSON text of ``value``: ujson (in Rasa's environment, for Sanic) when it can, else json."""
    try:
        import ujson

        return str(ujson.dumps(value))
    except (ImportError, TypeError, ValueError, OverflowError):
        return json.dumps(value)


def _build_store_class() -> Any:
    import sqlite3

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    session_started = SessionStarted.type_name
    install_runtime_patches()

    class SQLiteTrackerStore(SQLTrackerStore):  # type: ignore[misc]
        """Rasa's SQL tracker store on one SQLite file: kept-open connection, WAL.

        The table and what is stored are Rasa's own (``SQLTrackerStore``);
        retrieve and save, the two calls of every turn, run their queries
        directly on one kept-open sqlite3 connection instead of through the
        ORM (a session, a compiled query and a count per call: ~40% of
        Rasa's CPU per turn, measured). WAL with synchronous=NORMAL keeps
        every committed turn across a crash or restart of Rasa; only an OS
        crash or power cut can lose the last turns.
        """

        def __init__(self, domain: Any = None, db: str = "rasa.db", **kwargs: Any) -> None:
            for ignored in ("dialect", "host"):
                kwargs.pop(ignored, None)
            super().__init__(domain=domain, dialect="sqlite", db=db, **kwargs)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url,
                poolclass=sa.pool.StaticPool,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            event.listen(self.engine, "connect", _pragmas)
            self.sessionmaker = sessionmaker(bind=self.engine)
            self._db: sqlite3.Connection | None = None
            if url.database and url.database != ":memory:":
                self._db = sqlite3.connect(
                    url.database, timeout=30, check_same_thread=False, isolation_level=None
                )
                _pragmas(self._db, None)

        async def _retrieve(
            self, sender_id: str, fetch_events_from_all_sessions: bool
        ) -> DialogueStateTracker | None:
            """The tracker of ``sender_id`` (its latest session unless all are asked for)."""
            if self._db is None:
                return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
            if fetch_events_from_all_sessions:
                rows = self._db.execute(
                    "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
                ).fetchall()
            else:
                rows = self._session_rows(sender_id, "data")
            events = [json.loads(data) for (data,) in rows]
            if self.domain and events:
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            return None

        async def save(self, tracker: DialogueStateTracker) -> None:
            """Append the tracker's events that are not stored yet, in one transaction."""
            if self._db is None:
                await super().save(tracker)
                return
            await self.stream_events(tracker)
            sender_id = tracker.sender_id
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                ((stored,),) = self._session_rows(sender_id, "count(*)")
                rows = _event_rows(sender_id, tracker.events, stored)
                db.executemany(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name,"
                    " action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        def _session_rows(self, sender_id: str, columns: str) -> list[Any]:
            """``columns`` of the events of the latest session, in order (Rasa's query)."""
            assert self._db is not None
            ((start,),) = self._db.execute(
                "SELECT max(timestamp) FROM events WHERE sender_id = ? AND type_name = ?",
                (sender_id, session_started),
            ).fetchall()
            if start is None:
                query = f"SELECT {columns} FROM events WHERE sender_id = ? ORDER BY id"
                return self._db.execute(query, (sender_id,)).fetchall()
            query = (
                f"SELECT {columns} FROM events WHERE sender_id = ? AND timestamp >= ? ORDER BY id"
            )
            return self._db.execute(query, (sender_id, start)).fetchall()

    return SQLiteTrackerStore


def _event_rows(sender_id: str, events: Any, stored: int) -> list[tuple[Any, ...]]:
    """The rows Rasa's SQL store adds for ``events`` after the first ``stored`` ones:
    (sender_id, type_name, timestamp, intent_name, action_name, data), as its ``save``."""
    import itertools

    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    rows = []
    for e in itertools.islice(events, stored, len(events)):
        data = e.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
        rows.append(
            (
                sender_id,
                e.type_name,
                data.get("timestamp"),
                intent,
                data.get("name"),
                json.dumps(data),
            )
        )
    return rows


def _build_postgres_store_class() -> Any:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.orm import sessionmaker

    install_runtime_patches()
    # Rasa's query for the latest session (``SQLTrackerStore._event_query``): the events
    # from the last session_started's timestamp on, or all when there is none
    latest = (
        "SELECT {columns} FROM events e, (SELECT max(timestamp) AS start FROM events"
        " WHERE sender_id = %(s)s AND type_name = %(t)s) latest"
        " WHERE e.sender_id = %(s)s AND (latest.start IS NULL OR e.timestamp >= latest.start)"
    )
    session_data = latest.format(columns="e.data") + " ORDER BY e.id"
    session_count = latest.format(columns="count(*)")
    insert = (
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
    )

    class PostgreSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]
        """Rasa's SQL tracker store on PostgreSQL, with each pooled connection checked before use.

        After PostgreSQL restarts, every connection kept in Rasa's pool is dead,
        and Rasa's engine finds out only by failing a query with it: a turn, or
        a read of the conversation, fails well after the database is back.
        ``pool_pre_ping`` tests a connection when it leaves the pool (one round
        trip) and replaces a dead one. Retrieve and save, the two calls of
        every turn, run Rasa's queries as plain SQL on a pooled connection
        instead of through the ORM (a session and compiled queries per call);
        tables, queries and what is stored are Rasa's own. Building it also
        installs the run-time patches (item 3 of the module docstring), as the
        SQLite store does. Selected in
        deploy/endpoints.scale-out.yml with
        ``type: faro_rasa_speedups.PostgreSQLTrackerStore``.
        """

        def __init__(self, domain: Any = None, **kwargs: Any) -> None:
            kwargs["dialect"] = "postgresql"
            super().__init__(domain=domain, **kwargs)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sessionmaker(bind=self.engine)

        async def _retrieve(
            self, sender_id: str, fetch_events_from_all_sessions: bool
        ) -> DialogueStateTracker | None:
            """The tracker of ``sender_id`` (its latest session unless all are asked for)."""
            params = {"s": sender_id, "t": SessionStarted.type_name}
            connection = self.engine.raw_connection()  # pooled, checked on the way out
            try:
                cursor = connection.cursor()
                if fetch_events_from_all_sessions:
                    cursor.execute(
                        "SELECT data FROM events WHERE sender_id = %(s)s ORDER BY id", params
                    )
                else:
                    cursor.execute(session_data, params)
                rows = cursor.fetchall()
                connection.commit()
            finally:
                connection.close()
            events = [json.loads(data) for (data,) in rows]
            if self.domain and events:
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            return None

        async def save(self, tracker: DialogueStateTracker) -> None:
            """Append the tracker's events that are not stored yet, in one transaction."""
            await self.stream_events(tracker)
            sender_id = tracker.sender_id
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(session_count, {"s": sender_id, "t": SessionStarted.type_name})
                ((stored,),) = cursor.fetchall()
                rows = _event_rows(sender_id, tracker.events, stored)
                if rows:
                    cursor.executemany(insert, rows)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                connection.close()

    return PostgreSQLTrackerStore


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
