"""The JSON API: `/v1/programs`, `/v1/programs/{program}/evaluate|explain`, `/v1/validate`.

Results are the very text `ruleengine eval` and `ruleengine explain --format json` print, and
diagnostics the very text of `ruleengine validate --format json`: the same library functions
write them. Everything that costs CPU (JSON parsing, snapshot checks, evaluation, rule checks)
runs in the thread pool, so a slow request never holds up the event loop.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.render import render_json
from ruleengine.engine.engine import Engine
from ruleengine.engine.snapshot import SnapshotError
from ruleengine.limits import Limits
from ruleengine.rules.ruleset import check_source
from ruleengine.rules.yaml_source import decode_source
from ruleengine.service.problems import PROBLEM_MEDIA_TYPE, ProblemError
from ruleengine.service.registry import Registry
from ruleengine.service.requests import (
    ENVELOPE_BYTES,
    EvaluateRequest,
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


def engine_for(registry: Registry, program: str) -> Engine:
    engine = registry.engine(program)
    if engine is None:
        raise ProblemError(
            404, "unknown-program", "Unknown program", f"no program `{program}` is served"
        )
    return engine


def read_snapshot(engine: Engine, data: Any) -> Any:
    try:
        return engine.read_snapshot(data, name=SNAPSHOT_NAME)
    except SnapshotError as error:
        first = error.problems[0]
        raise ProblemError(
            422,
            "invalid-snapshot",
            "Invalid snapshot",
            f"{first.path}: {first.message}"
            + (f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""),
            code=first.code,
            problems=[problem.to_dict() for problem in error.problems],
        ) from None


def evaluate_text(engine: Engine, request: EvaluateRequest) -> str:
    """What `ruleengine eval --format json` prints for the same snapshot and `--now`."""
    snapshot = read_snapshot(engine, request.snapshot)
    return engine.evaluate(snapshot, now=request.now, explain=request.explain).dumps() + "\n"


def explain_text(engine: Engine, request: EvaluateRequest) -> str:
    """What `ruleengine explain --format json [--rule ID]` prints."""
    model = engine.ruleset.model
    rule_ids = {rule.id for rule in model.earning} | {rule.id for rule in model.milestones}
    if request.rule is not None and request.rule not in rule_ids:
        raise ProblemError(
            422, "unknown-rule", "Unknown rule", f"no rule `{request.rule}` in {model.program}"
        )
    snapshot = read_snapshot(engine, request.snapshot)
    explanations = engine.explain(snapshot, now=request.now, rule=request.rule)
    return json.dumps([e.to_json() for e in explanations], indent=2, ensure_ascii=False) + "\n"


def _evaluate(registry: Registry, program: str, body: bytes) -> str:
    """One trip to the thread pool per request: each trip costs about as much as a small
    evaluation, so the lookup, the parsing and the evaluation share one."""
    engine = engine_for(registry, program)
    return evaluate_text(engine, parse_evaluate_request(body, with_rule=False))


def _explain(registry: Registry, program: str, body: bytes) -> str:
    engine = engine_for(registry, program)
    return explain_text(engine, parse_evaluate_request(body, with_rule=True))


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


def build_router(registry: Registry, limits: Limits) -> APIRouter:
    router = APIRouter()
    body_limit = limits.max_snapshot_bytes + ENVELOPE_BYTES

    @router.get(
        "/healthz",
        tags=["service"],
        summary="Liveness: answers without a token and without looking at rule files",
        responses=_ok({"$ref": "#/components/schemas/Health"}, "The server is up"),
    )
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

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
        "/v1/programs/{program}/evaluate",
        tags=["programs"],
        summary="Decide a customer's rewards (the result of `ruleengine eval`)",
        openapi_extra=_json_body("EvaluateRequest"),
        responses={
            **_ok({"$ref": "#/components/schemas/Result"}, "The result, as `ruleengine eval`"),
            **_problem_responses(400, 401, 404, 413, 422),
        },
    )
    async def evaluate(program: str, request: Request) -> Response:
        body = await read_body(request, body_limit, "RE614")
        text = await run_in_threadpool(_evaluate, registry, program, body)
        return Response(text, media_type="application/json")

    @router.post(
        "/v1/programs/{program}/explain",
        tags=["programs"],
        summary="Why each rule did or did not grant (`ruleengine explain --format json`)",
        openapi_extra=_json_body("ExplainRequest"),
        responses={
            **_ok(
                {"type": "array", "items": {"$ref": "#/components/schemas/ExplanationOut"}},
                "The explanations, as `ruleengine explain --format json`",
            ),
            **_problem_responses(400, 401, 404, 413, 422),
        },
    )
    async def explain(program: str, request: Request) -> Response:
        body = await read_body(request, body_limit, "RE614")
        text = await run_in_threadpool(_explain, registry, program, body)
        return Response(text, media_type="application/json")

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
            **_problem_responses(400, 401, 413, 422),
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
                today = date.fromisoformat(today_text)
            except ValueError:
                raise ProblemError(
                    422,
                    "invalid-request",
                    "Invalid request",
                    f"`today` is not a date (YYYY-MM-DD): {today_text!r}",
                ) from None
        body = await read_body(request, limits.max_file_bytes, "RE108")
        text = await run_in_threadpool(validate_text, body, name, today, limits)
        return Response(text, media_type="application/json")

    return router
