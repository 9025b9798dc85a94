"""The newsroom API against its OpenAPI document: schemathesis on the live server, real Redis.

Two runs over the document the server itself serves at ``/api/openapi.json``:

* property-based: every operation, with schema-valid (positive) and schema-breaking (negative)
  requests, each answer checked — no 5xx, a documented status code, a documented content type,
  a body matching the documented schema, and a schema-breaking request refused;
* stateful: scenarios that follow the document's links (post an article, then read, correct,
  update, retract, delete it and read its alert), with the same checks plus "a created resource
  is there" and "a deleted one is gone".

The server is the production runner (``open_runtime`` with the HTTP server only) on the test's
event loop; schemathesis' blocking client runs in a worker thread. Bounded: a few hundred
requests in all (``PROPERTY`` and ``STATEFUL``), no deadline (speed is not what is tested).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import redis as redis_sync
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from redis.asyncio import Redis
from schemathesis import Case, GenerationMode, Response
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from bot.ingest.openapi import OPENAPI_PATH
from tests.constants import AUTH
from tests.ingest_support import live_api

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Requests that break the document are refused (it found a ``published_at`` of 0 accepted).
NEGATIVE_CHECKS: list[CheckFunction] = [*CHECKS, negative_data_rejection]
#: This server runs no delivery worker, so /readyz rightly answers its documented 503: the
#: other checks still hold it to the document.
NOT_READY_PATHS = frozenset({"/readyz"})
#: Examples per operation and generation mode (negative only where there is input to break).
POSITIVE_EXAMPLES = 15
NEGATIVE_EXAMPLES = 8
PROPERTY = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
STATEFUL = settings(
    max_examples=20,
    stateful_step_count=8,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)
#: The operations a posted article's links lead to (their 2xx answers need a real article).
LINKED = frozenset(
    {
        "GET /api/articles/{id}",
        "PUT /api/articles/{id}",
        "DELETE /api/articles/{id}",
        "POST /api/articles/{id}/updates",
        "POST /api/articles/{id}/retract",
        "GET /api/alerts/{id}",
    }
)


@dataclass
class Report:
    """What a run did: requests per operation, answers per (operation, status), failures."""

    examples: Counter[str] = field(default_factory=Counter)
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def record(self, case: Case[Any], response: Response) -> None:
        """Count one request and its answer."""
        self.examples[case.operation.label] += 1
        self.answers[(case.operation.label, response.status_code)] += 1

    def succeeded(self, label: str) -> bool:
        """Whether an operation answered 2xx at least once."""
        return any(op == label and 200 <= status < 300 for op, status in self.answers)


def _checks_for(case: Case[Any], checks: list[CheckFunction]) -> list[CheckFunction]:
    if case.operation.path in NOT_READY_PATHS:
        return [check for check in checks if check is not not_a_server_error]
    return checks


async def served_document(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """The document as the server serves it (``from_url`` would leave out the operation that
    served it, and this one is part of the contract too)."""
    async with http.get(f"{url}{OPENAPI_PATH}") as resp:
        assert resp.status == 200
        document: dict[str, Any] = await resp.json()
    return document


def _load_schema(url: str, document: dict[str, Any]) -> Any:
    """The served document, aimed at that server with the API token."""
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=url, headers=dict(AUTH))
    return schema


def _has_input(operation: Any) -> bool:
    """Whether an operation takes input a negative example can break (parameters, a body)."""
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


def _run_examples(operation: Any, mode: GenerationMode, examples: int, report: Report) -> None:
    """``examples`` requests of one generation mode to one operation, each answer checked."""
    checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS

    @settings(PROPERTY, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Case[Any]) -> None:
        response = case.call()
        report.record(case, response)
        case.validate_response(response, checks=_checks_for(case, checks))

    try:
        check()
    except Exception as exc:  # every operation is tried; all findings are reported
        report.failures.append(f"{operation.label} ({mode.value}): {exc}")


def property_run(url: str, document: dict[str, Any]) -> Report:
    """Every operation of the document, positive and negative requests, all checked."""
    schema = _load_schema(url, document)
    report = Report()
    for result in schema.get_all_operations():
        operation = result.ok()
        _run_examples(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, report)
        if _has_input(operation):
            _run_examples(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, report)
    return report


def stateful_run(url: str, document: dict[str, Any], redis_url: str) -> Report:
    """Scenarios along the document's links, each from an empty store, all checked."""
    schema = _load_schema(url, document)
    report = Report()
    store = redis_sync.Redis.from_url(redis_url)
    checks = [*CHECKS, ensure_resource_availability, use_after_free]

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from nothing: Hypothesis replays choices and expects the
            # same answers (a repeat POST answers 200, a second DELETE 404).
            store.flushdb()

        def after_call(self, response: Response, case: Case[Any]) -> None:
            report.record(case, response)

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            chosen = _checks_for(case, checks)
            case.validate_response(response, checks=chosen, transport_kwargs=kwargs)

    try:
        Scenario.run(settings=STATEFUL)
    finally:
        store.close()
    return report


async def test_every_operation_answers_as_its_document_says(
    redis: Redis, redis_url: str, http: aiohttp.ClientSession
) -> None:
    async with live_api(redis_url) as api:
        document = await served_document(http, api.url)
        report = await asyncio.to_thread(property_run, api.url, document)
    assert not report.failures, "\n\n".join(report.failures)
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert set(report.examples) == operations
    # Something was posted for real, and a valid request was answered with data.
    assert report.answers[("POST /api/articles", 201)] > 0
    assert report.succeeded("GET /api/articles")


async def test_scenarios_along_the_links_answer_as_the_document_says(
    redis: Redis, redis_url: str, http: aiohttp.ClientSession
) -> None:
    async with live_api(redis_url) as api:
        document = await served_document(http, api.url)
        report = await asyncio.to_thread(stateful_run, api.url, document, redis_url)
    assert report.succeeded("POST /api/articles")
    # The links were followed: operations on a posted article's id answered with data.
    assert any(report.succeeded(label) for label in LINKED)
