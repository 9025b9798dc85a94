"""Fuzzing the HTTP bodies (issue 9): malformed bytes to the API and the webhook, never a 5xx.

Hypothesis drives a blocking client in a worker thread while the servers run on the test's
event loop, so every example is a real request to the production runner. Bounded: ~150
examples per server, no deadline (a request's time is not what is tested).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.serving import SECRET_HEADER
from tests.constants import API_TOKEN
from tests.ingest_support import LiveApi, live_api, unhandled_errors
from tests.webhook_support import PATH, SECRET, Hook, webhook_bot

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ARTICLE = json.dumps(
    {
        "title": "عاجل | انفجار في الميناء",
        "sections": [{"heading": "التفاصيل", "paragraphs": ["وقع انفجار قوي صباح اليوم."]}],
        "breaking": True,
        "url": "https://news.example/a/1",
        "published_at": "2024-05-01T10:00:00Z",
        "source": "وكالة",
        "tags": ["ميناء"],
    },
    ensure_ascii=False,
).encode()
FUZZ_READER = 901
UPDATE = json.dumps(
    {
        "update_id": 10,
        "message": {
            "message_id": 5,
            "date": 1_700_000_000,
            "chat": {"id": FUZZ_READER, "type": "private", "first_name": "ف"},
            "from": {"id": FUZZ_READER, "is_bot": False, "first_name": "ف"},
            "text": "/latest",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        },
    }
).encode()

#: Byte strings that break parsers: bad UTF-8, NUL, escapes of lone surrogates, deep nesting.
NASTY = [
    b"\xff", b"\xfe\xff", b"\x00", b"\xed\xa0\x80", b"\\ud800", b"\\udfff\\ud800", b'"', b"\\",
    b"{", b"}", b"[", b"]" * 3, b"[" * 2000, b'{"a":' * 500, b"\xef\xbb\xbf", b"\r\n", b"1e999",
    b"NaN", b"-Infinity", b"true", b"null", "\u202e".encode(), "\u0000".encode(),
    b'"breaking": "yes"', b'"published_at": "9999-12-31T23:59:59"', b'"tags": [1, {}]',
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes replaced, inserted or cut, or nasty fragments spliced in."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "replace", "cut", "nasty"]))
        if action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "replace":
            data[at : at + 1] = draw(st.binary(min_size=1, max_size=2))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            data[at:at] = draw(st.sampled_from(NASTY))
    return bytes(data)


#: Any code point, lone surrogates included (JSON can carry them as ``\ud800`` escapes).
ANY_CHAR = st.characters(exclude_categories=())
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(ANY_CHAR)
    | st.sampled_from(["\ud800", "x\udfff", "\u202e\u0000", "9999-12-31", "🇵🇸" * 50]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(ANY_CHAR, max_size=8), inner)
    ),
    max_leaves=12,
)


def field_shuffle(seed: bytes) -> st.SearchStrategy[bytes]:
    """The seed JSON with some of its fields replaced by arbitrary JSON values (any type)."""
    base = json.loads(seed)
    keys = [*sorted(base), "body", "id", "extra"]
    return st.dictionaries(st.sampled_from(keys), json_values, min_size=1, max_size=4).map(
        lambda changes: json.dumps({**base, **changes}).encode()
    )


#: Strings that are valid JSON but hostile text: lone surrogates (and a pair in the wrong order),
#: NUL, a bidi override, a BOM, markup and an undefined entity.
POISON = ["\ud800", "\udfff", "\udfff\udbff", "\x00", "\u202e", "\ufeff", "<b>", "&lol9;"]


def _string_paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The paths of every string in a JSON document (``("sections", 0, "heading")``, ...)."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        items: list[tuple[str | int, object]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    return [found for key, item in items for found in _string_paths(item, (*path, key))]


@st.composite
def field_poison(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed JSON, valid but for one string field with hostile text spliced in."""
    document = json.loads(seed)
    path = draw(st.sampled_from(_string_paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    text = parent[path[-1]]
    at = draw(st.integers(0, len(text)))
    parent[path[-1]] = text[:at] + draw(st.sampled_from(POISON)) + text[at:]
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def bodies(seed: bytes) -> st.SearchStrategy[bytes]:
    """Malformed bodies around a valid ``seed``: arbitrary bytes, mutations, wrong field types."""
    return st.binary(max_size=512) | mutated(seed) | field_shuffle(seed) | field_poison(seed)


CONTENT_TYPES = [
    b"application/json", b"text/plain", b"text/plain; charset=utf-8",
    b"application/json; charset=utf-16", b"text/plain; charset=\xff",
    b"application/x-www-form-urlencoded", b"\xff/\xfe", b"",
]  # fmt: skip
QUERIES = [b"", b"?breaking=true", b"?breaking=false", b"?breaking=yes", b"?breaking=%ff"]


def post(port: int, target: bytes, headers: list[bytes], body: bytes, *, chunked: bool) -> int:
    """A blocking raw POST (``Connection: close``); the answer's status code."""
    if chunked:
        framing = [b"Transfer-Encoding: chunked"]
        chunks = [b"%x\r\n%s\r\n" % (len(part), part) for part in _parts(body)]
        payload = b"".join(chunks) + b"0\r\n\r\n"
    else:
        framing = [b"Content-Length: %d" % len(body)]
        payload = body
    head = [b"POST " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    request = b"\r\n".join([*head, *headers, *framing, b"", b""]) + payload
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = bytearray()
        while chunk := sock.recv(65536):
            answer += chunk
    return int(bytes(answer).split(b" ", 2)[1])


def _parts(body: bytes) -> list[bytes]:
    return [body[i : i + 100] for i in range(0, len(body), 100)]


@pytest.fixture
async def api(redis_url: str, redis: Redis) -> AsyncIterator[LiveApi]:
    async with live_api(redis_url) as served:
        yield served


async def test_fuzzed_api_bodies_never_get_a_5xx(api: LiveApi) -> None:
    statuses: list[int] = []

    @FUZZ
    @given(
        body=bodies(ARTICLE),
        # JSON half the time: the JSON form reaches the most code (every field's checks).
        content_type=st.sampled_from(CONTENT_TYPES) | st.just(b"application/json"),
        query=st.sampled_from(QUERIES),
        chunked=st.booleans(),
    )
    def fuzz(body: bytes, content_type: bytes, query: bytes, chunked: bool) -> None:
        headers = [f"Authorization: Bearer {API_TOKEN}".encode()]
        if content_type:
            headers.append(b"Content-Type: " + content_type)
        status = post(api.port, b"/api/articles" + query, headers, body, chunked=chunked)
        statuses.append(status)
        assert status < 500, (status, body[:200])

    await asyncio.to_thread(fuzz)
    assert unhandled_errors(api.metrics) == 0
    assert any(s in (200, 201) for s in statuses) and any(400 <= s < 500 for s in statuses)
    # Still serving afterwards.
    anonymous = [b"Content-Type: text/plain"]
    status = await asyncio.to_thread(post, api.port, b"/api/x", anonymous, b"x", chunked=False)
    assert status == 401


@pytest.fixture
async def hook(redis_url: str, redis: Redis) -> AsyncIterator[Hook]:
    async with webhook_bot(redis_url) as served:
        yield served


async def test_fuzzed_webhook_bodies_never_get_a_5xx(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    hook.sandbox.state.add_user(FUZZ_READER, "ف")  # the sender of the seed update
    statuses: list[int] = []

    @FUZZ
    @given(body=bodies(UPDATE), chunked=st.booleans())
    def fuzz(body: bytes, chunked: bool) -> None:
        headers = [f"{SECRET_HEADER}: {SECRET}".encode(), b"Content-Type: application/json"]
        status = post(hook.port, PATH.encode(), headers, body, chunked=chunked)
        statuses.append(status)
        assert status < 500, (status, body[:200])

    await asyncio.to_thread(fuzz)
    assert 200 in statuses and 400 in statuses
    errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors  # no handler failed on an update that got through
    assert await hook.answers_updates()  # the bot still takes and answers updates
