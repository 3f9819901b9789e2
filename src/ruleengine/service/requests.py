"""Reading request bodies: bounded before they are read, and parsed as the CLI parses.

The size limit is enforced from `Content-Length` before any byte is read and again while the
body streams in (a chunked body has no length), so no request can make the server hold more
than the limit in memory. JSON numbers with a fraction become `Decimal`, as in `ruleengine eval`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from starlette.requests import Request

from ruleengine.engine.snapshot_json import (
    SURROGATE,
    LongIntegerError,
    SnapshotError,
    loads_exact,
    may_hold_surrogates,
    surrogate_problems,
)
from ruleengine.engine.snapshot_reading import SnapshotReading, without_unread_fields
from ruleengine.expr.runtime import SUPPORTED_YEARS, is_supported
from ruleengine.limits import AMOUNT_DIGITS
from ruleengine.service.problems import ProblemError

ENVELOPE_BYTES = 4_096  # room around the snapshot for `now`, `explain` and `rule`


def too_large(limit: int, code: str) -> ProblemError:
    return ProblemError(
        413,
        "body-too-large",
        "Request body too large",
        f"the request body is larger than {limit:,} bytes",
        code=code,
    )


async def read_body(request: Request, limit: int, code: str) -> bytes:
    """The whole body, or 413 as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProblemError(400, "invalid-request", "Bad request", "bad Content-Length")
        if int(declared) > limit:
            raise too_large(limit, code)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit, code)
        chunks.append(chunk)
    return b"".join(chunks)


JSON_MEDIA = "application/json"
# What `POST /v1/validate` reads: a rule file's YAML text.
YAML_MEDIA = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """The media type of a `Content-Type` value, lowercased (`""` when there is none), and
    its `charset` parameter, if any."""
    if content_type is None:
        return "", None
    media, *parameters = content_type.split(";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def is_json_media(media: str) -> bool:
    """`application/json`, or a JSON-based type such as `application/problem+json`."""
    return media == JSON_MEDIA or (media.startswith("application/") and media.endswith("+json"))


def check_content_type(
    content_type: str | None, *, json_body: bool, content_encoding: str | None = None
) -> None:
    """415 for a body that does not say it is what the endpoint reads: JSON for the program
    endpoints (`application/json`, `application/*+json`), YAML or plain text for validate; in
    UTF-8 either way. A body without a `Content-Type` is refused too. This keeps an HTML form
    or a `text/plain` fetch from another site (which a browser sends without a CORS
    preflight) from reaching the program endpoints at all. A compressed body (any
    `Content-Encoding` but `identity`) is 415 too, with `Accept-Encoding: identity` (RFC 9110,
    15.5.16): the body limits count the bytes as sent."""
    coding = (content_encoding or "").strip().lower()
    if coding not in ("", "identity"):
        raise ProblemError(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"the body must be sent uncompressed, not with `Content-Encoding: {coding}`",
            headers={"Accept-Encoding": "identity"},
        )
    media, charset = media_type(content_type)
    accepted = is_json_media(media) if json_body else media in YAML_MEDIA
    expected = f"`{JSON_MEDIA}`" if json_body else ", ".join(f"`{item}`" for item in YAML_MEDIA)
    if not accepted:
        said = f"`{media}`" if media else "no Content-Type"
        detail = f"the body must be sent as {expected}, not {said}"
    elif charset is not None and charset not in ("utf-8", "utf8"):
        detail = f"the body must be UTF-8, not `{charset}`"
    else:
        return
    raise ProblemError(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        detail,
        headers={"Accept-Post": JSON_MEDIA if json_body else ", ".join(YAML_MEDIA)},
    )


@dataclass(frozen=True, slots=True)
class EvaluateRequest:
    snapshot: Any
    now: datetime
    explain: bool
    rule: str | None


def _invalid(detail: str) -> ProblemError:
    return ProblemError(422, "invalid-request", "Invalid request", detail)


def parse_json(body: bytes, reading: SnapshotReading | None = None) -> Any:
    """JSON text -> data with exact decimals; RE611/RE614 problems as the CLI words them.
    With the `reading` of the engine that will read its `snapshot`, the customer fields it
    does not read are skipped without being built (`snapshot_reading`), as the CLI skips
    them: 32 MiB of values nobody declared cost no memory per value."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(
            400, "invalid-json", "Invalid JSON", "the body is not UTF-8 text", code="RE611"
        ) from None
    unread = None if reading is None else _without_unread_fields(body, reading)
    try:
        return loads_exact(text if unread is None else unread.decode())
    except LongIntegerError as error:  # as `ruleengine eval` refuses it, before `int` would
        line, column = error.position(text)
        raise ProblemError(
            400,
            "invalid-json",
            "Invalid JSON",
            f"{line}:{column}: a number in the body has more than {AMOUNT_DIGITS} digits",
            code="RE614",
        ) from None
    except json.JSONDecodeError as error:
        raise ProblemError(
            400,
            "invalid-json",
            "Invalid JSON",
            f"{error.lineno}:{error.colno}: the body is not valid JSON: {error.msg}",
            code="RE611",
        ) from None
    except RecursionError:  # the standard parser recurses once per nesting level
        raise ProblemError(
            400, "invalid-json", "Invalid JSON", "the body is nested too deeply", code="RE614"
        ) from None


_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _without_unread_fields(body: bytes, reading: SnapshotReading) -> bytes | None:
    """The body with its snapshot's unread customer fields left out; None for none (or a
    body that is no JSON object with a snapshot: `parse_json` words what is wrong)."""
    try:
        envelope = _OBJECT.decode(body)
    except (msgspec.MsgspecError, RecursionError):
        return None
    snapshot = envelope.get("snapshot")
    if snapshot is None:
        return None
    kept = without_unread_fields(bytes(snapshot), reading.read, reading.limits.max_json_depth)
    if kept is None:
        return None
    return msgspec.json.encode({**envelope, "snapshot": msgspec.Raw(kept)})


def parse_now(value: Any) -> datetime:
    """`now` is required and must carry its offset: the server never puts in its own clock."""
    if value is None:
        raise _invalid("`now` is required: the moment of evaluation, like `2026-06-01T00:00:00Z`")
    if not isinstance(value, str):
        raise _invalid("`now` must be an ISO 8601 timestamp string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"`now` is not an ISO 8601 timestamp: {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        # The moment as written, in a form that parses: `2026-06-01` -> `2026-06-01T00:00:00Z`
        # (`2026-06-01Z`, a date with a zone, is not an ISO 8601 timestamp).
        written = moment.isoformat()
        raise _invalid(
            f"`now` has no time zone offset; write it as `{written}Z` "
            f"or with an offset, like `{written}+02:00`"
        )
    if not is_supported(moment):
        raise _invalid(f"`now` is outside {SUPPORTED_YEARS}: {value!r}")
    return moment


def parse_evaluate_request(
    body: bytes, *, fields: frozenset[str], reading: SnapshotReading | None = None
) -> EvaluateRequest:
    """The body of evaluate, explain or timeline: a JSON object with `snapshot`, `now` and
    the optional ones of `fields`; anything else is a 422 problem. `reading` is that of the
    engine that will read the snapshot (`parse_json`)."""
    data = parse_json(body, reading)
    if not isinstance(data, dict):
        raise _invalid('the body must be a JSON object: {"snapshot": {...}, "now": "..."}')
    unknown = sorted(set(data) - fields)
    if unknown:
        raise _invalid(
            f"unknown field {_quoted(unknown[0])}; the fields are {', '.join(sorted(fields))}"
        )
    if "snapshot" not in data:
        raise _invalid(
            "`snapshot` is required: the customer snapshot (schemas/snapshot.schema.json)"
        )
    explain = data.get("explain", False)
    if not isinstance(explain, bool):
        raise _invalid("`explain` must be true or false")
    rule = data.get("rule")
    if rule is not None and not isinstance(rule, str):
        raise _invalid("`rule` must be a rule id (a string)")
    if rule is not None and SURROGATE.search(rule):
        raise _invalid(f"`rule` holds half of a surrogate pair: {rule!a}")
    if may_hold_surrogates(body):
        problems = list(surrogate_problems(data["snapshot"]))
        if problems:
            raise SnapshotError(problems, "<request>")
    return EvaluateRequest(data["snapshot"], parse_now(data.get("now")), explain, rule)


def _quoted(text: str) -> str:
    """`text` in backticks, with anything no encoding can write (half a surrogate pair)
    escaped, so a problem can always be sent."""
    return f"`{text}`" if SURROGATE.search(text) is None else ascii(text)
