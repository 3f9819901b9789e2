"""The JSON API: `/v1/programs`, `/v1/programs/{program}/evaluate|explain|timeline`,
`/v1/validate`.

Results are the very text `ruleengine eval`, `ruleengine explain --format json` and
`ruleengine timeline --format json` print, and diagnostics the very text of `ruleengine
validate --format json`: the same library functions write them.

The program endpoints (evaluate, explain, timeline) are answered by `ProgramEndpoints`, an
ASGI middleware in front of the framework: it reads the body and writes the result text
itself, so FastAPI's middleware, routing and parameter solving (a fifth of a request's CPU)
add nothing to the hot path. Their OpenAPI entries are written by `program_paths`. A small
body (at most `INLINE_BODY_BYTES`) is evaluated on the event loop: handing it to a thread
costs as much as evaluating it, and it holds the loop no longer than a thread holding the GIL
would (its 5 ms switch interval). A bigger body, a rule check, and a request that finds the
rule files due for a reload go to the thread pool, so one slow request never holds up the
others.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.render import render_json
from ruleengine.engine.engine import Engine
from ruleengine.engine.json_text import dumps_indented
from ruleengine.engine.snapshot import SnapshotError
from ruleengine.expr.runtime import parse_day
from ruleengine.limits import Limits
from ruleengine.rules.ruleset import check_source
from ruleengine.rules.yaml_source import decode_source
from ruleengine.service.problems import PROBLEM_MEDIA_TYPE, ProblemError, problem_response
from ruleengine.service.registry import Registry
from ruleengine.service.requests import (
    EvaluateRequest,
    check_content_type,
    parse_evaluate_request,
    read_body,
)

SNAPSHOT_NAME = "<request>"


def _problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        status: {"description": "A problem (RFC 9457)", "content": problem} for status in statuses
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


def _ok(schema: dict[str, Any], description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"schema": schema}}}}


# The program endpoints in the OpenAPI document: summary, request and answer schemas.
PROGRAM_DOCS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "evaluate": (
        "Decide a customer's rewards (the result of `ruleengine eval`)",
        "EvaluateRequest",
        {"$ref": "#/components/schemas/Result"},
        "The result, as `ruleengine eval`",
    ),
    "explain": (
        "Why each rule did or did not grant (`ruleengine explain --format json`)",
        "ExplainRequest",
        {"type": "array", "items": {"$ref": "#/components/schemas/ExplanationOut"}},
        "The explanations, as `ruleengine explain --format json`",
    ),
    "timeline": (
        "A customer's points history and balance (`ruleengine timeline --format json`)",
        "TimelineRequest",
        {"$ref": "#/components/schemas/Timeline"},
        "The points history, as `ruleengine timeline --format json`",
    ),
}


def program_paths(programs: list[str], examples: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI path items of the program endpoints. `program` is one of the programs
    served when the document was built (the document is rebuilt when that set changes), and
    `examples` are request bodies (the `--snapshots` examples) a reader can try."""
    parameter = {
        "name": "program",
        "in": "path",
        "required": True,
        "description": "The `program` id of a served rule file (`GET /v1/programs`)",
        "schema": {"type": "string", "enum": programs} if programs else {"type": "string"},
    }
    paths: dict[str, Any] = {}
    for action, (summary, request_schema, answer_schema, description) in PROGRAM_DOCS.items():
        body = _json_body(request_schema)
        if examples:
            body["requestBody"]["content"]["application/json"]["examples"] = examples
        paths[f"/v1/programs/{{program}}/{action}"] = {
            "post": {
                "tags": ["programs"],
                "summary": summary,
                "operationId": f"{action}_program",
                "parameters": [parameter],
                **body,
                "responses": {
                    str(status): answer
                    for status, answer in {
                        **_ok(answer_schema, description),
                        **_problem_responses(400, 401, 404, 413, 415, 422),
                    }.items()
                },
            }
        }
    return paths


def engine_for(registry: Registry, program: str) -> Engine:
    engine = registry.engine(program)
    if engine is None:
        raise ProblemError(
            404, "unknown-program", "Unknown program", f"no program `{program}` is served"
        )
    return engine


def snapshot_problem(error: SnapshotError) -> ProblemError:
    """A snapshot the library refuses -> 422 with each problem's code and JSON path."""
    first = error.problems[0]
    return ProblemError(
        422,
        "invalid-snapshot",
        "Invalid snapshot",
        f"{first.path}: {first.message}"
        + (f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""),
        code=first.code,
        problems=[problem.to_dict() for problem in error.problems],
    )


def read_snapshot(engine: Engine, data: Any) -> Any:
    return engine.read_snapshot(data, name=SNAPSHOT_NAME)


def evaluate_text(engine: Engine, request: EvaluateRequest) -> str:
    """What `ruleengine eval --format json` prints for the same snapshot and `--now`."""
    snapshot = read_snapshot(engine, request.snapshot)
    return engine.evaluate(snapshot, now=request.now, explain=request.explain).dumps() + "\n"


def explain_text(engine: Engine, request: EvaluateRequest) -> str:
    """What `ruleengine explain --format json [--rule ID]` prints."""
    if request.rule is not None and request.rule not in engine.explainable_rules():
        program = engine.ruleset.model.program
        raise ProblemError(
            422, "unknown-rule", "Unknown rule", f"no rule `{request.rule}` in {program}"
        )
    snapshot = read_snapshot(engine, request.snapshot)
    explanations = engine.explain(snapshot, now=request.now, rule=request.rule)
    return dumps_indented([e.to_json() for e in explanations]) + "\n"


def timeline_text(engine: Engine, request: EvaluateRequest) -> str:
    """What `ruleengine timeline --format json` prints."""
    snapshot = read_snapshot(engine, request.snapshot)
    return engine.timeline(snapshot, now=request.now).dumps() + "\n"


ProgramCall = Callable[[Engine, EvaluateRequest], str]

# The body fields each program endpoint takes (anything else is a 422 problem).
PROGRAM_CALLS: dict[str, tuple[ProgramCall, frozenset[str]]] = {
    "evaluate": (evaluate_text, frozenset({"snapshot", "now", "explain"})),
    "explain": (explain_text, frozenset({"snapshot", "now", "rule"})),
    "timeline": (timeline_text, frozenset({"snapshot", "now"})),
}

INLINE_BODY_BYTES = 16_384  # about 150 activities: evaluated in a millisecond or two


def answer(registry: Registry, action: str, program: str, body: bytes) -> str:
    """Look the program up, read the request and run `action`: one trip to the thread pool at
    most, since each trip costs about as much as a small evaluation."""
    engine = engine_for(registry, program)
    call, fields = PROGRAM_CALLS[action]
    try:
        return call(engine, parse_evaluate_request(body, fields=fields, reading=engine.reading))
    except SnapshotError as error:
        raise snapshot_problem(error) from None


def runs_inline(registry: Registry, body: bytes) -> bool:
    """A small body, with no reload due (a reload may check and compile rule files), is
    answered on the event loop; anything else in the thread pool."""
    return len(body) <= INLINE_BODY_BYTES and not registry.reload_due()


def validate_text(body: bytes, name: str, today: date | None, limits: Limits) -> str:
    """What `ruleengine validate --format json FILE` prints for a file with this text."""
    source = decode_source(name, body)
    if isinstance(source, Diagnostic):
        found = [source]
    else:
        found = check_source(source, today=today, now=datetime.now(UTC), limits=limits).diagnostics
    return render_json(found, files=[name]) + "\n"


def program_listing(registry: Registry) -> dict[str, Any]:
    return {
        "programs": [
            {
                "program": state.program,
                "file": state.file,
                "ruleset_hash": state.engine.ruleset.hash if state.engine else None,
                "loaded_at": state.loaded_at.isoformat() if state.loaded_at else None,
                "serving": state.serving,
                "error": state.error,
                "duplicate_of": state.duplicate_of,
            }
            for state in registry.files()
        ]
    }


_PROGRAM_PATH = re.compile(r"/v1/programs/([^/]+)/(evaluate|explain|timeline)")


class ProgramEndpoints:
    """`POST /v1/programs/{program}/evaluate|explain|timeline`; every other request goes on
    to the app. Errors are the same problems the app's handlers write; an unexpected one
    goes on to the app's handler for internal errors (logged, a 500 problem)."""

    def __init__(self, app: ASGIApp, registry: Registry, body_limit: int) -> None:
        self.app = app
        self.registry = registry
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _PROGRAM_PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        program, action = found.groups()
        try:
            if scope["method"] != "POST":
                raise ProblemError(
                    405,
                    "method-not-allowed",
                    "Method not allowed",
                    "Method Not Allowed",
                    headers={"Allow": "POST"},
                )
            request = Request(scope, receive)
            check_content_type(
                request.headers.get("content-type"),
                json_body=True,
                content_encoding=request.headers.get("content-encoding"),
            )
            body = await read_body(request, self.body_limit, "RE614")
            if runs_inline(self.registry, body):
                text = answer(self.registry, action, program, body)
            else:
                text = await run_in_threadpool(answer, self.registry, action, program, body)
        except ProblemError as problem:
            await problem_response(problem)(scope, receive, send)
            return
        data = text.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def build_router(registry: Registry, limits: Limits) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/healthz",
        tags=["service"],
        summary="Liveness: answers without a token and without looking at rule files",
        responses=_ok({"$ref": "#/components/schemas/Health"}, "The server is up"),
    )
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    # Load balancers' health checks send HEAD too; the same answer without its body (left
    # out of the OpenAPI document, which would give both methods one operation id).
    router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)

    @router.get(
        "/v1/programs",
        tags=["programs"],
        summary="The rule files served: program, file, ruleset_hash and any reload error",
        responses={
            **_ok({"$ref": "#/components/schemas/ProgramList"}, "Every rule file found"),
            **_problem_responses(401),
        },
    )
    async def programs() -> Response:
        return JSONResponse(await run_in_threadpool(program_listing, registry))

    @router.post(
        "/v1/validate",
        tags=["rules"],
        summary="Check a rule file's text (`ruleengine validate --format json`)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    media: {"schema": {"type": "string"}}
                    for media in ("application/yaml", "text/plain")
                },
            },
            "parameters": [
                {
                    "name": "name",
                    "in": "query",
                    "required": False,
                    "description": "The file name diagnostics show (never read);"
                    " default `<string>`",
                    "schema": {"type": "string", "maxLength": 200},
                },
                {
                    "name": "today",
                    "in": "query",
                    "required": False,
                    "description": "The day for date-dependent notes (default: the server's "
                    "day, as `ruleengine validate` without `--today`)",
                    "schema": {"type": "string", "format": "date"},
                },
            ],
        },
        responses={
            **_ok({"$ref": "#/components/schemas/ValidateReport"}, "Every diagnostic"),
            **_problem_responses(400, 401, 413, 415, 422),
        },
    )
    async def validate(request: Request) -> Response:
        name = request.query_params.get("name") or "<string>"
        if len(name) > 200:
            raise ProblemError(422, "invalid-request", "Invalid request", "`name` is too long")
        today_text = request.query_params.get("today")
        today = None
        if today_text is not None:
            try:
                today = parse_day(today_text)
            except ValueError as error:
                raise ProblemError(
                    422, "invalid-request", "Invalid request", f"`today`: {error}"
                ) from None
        check_content_type(
            request.headers.get("content-type"),
            json_body=False,
            content_encoding=request.headers.get("content-encoding"),
        )
        body = await read_body(request, limits.max_file_bytes, "RE108")
        text = await run_in_threadpool(validate_text, body, name, today, limits)
        return Response(text, media_type="application/json")

    return router
