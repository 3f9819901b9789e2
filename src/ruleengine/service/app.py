"""The ASGI application: routes, pages, problems for every error, bearer auth, and OpenAPI.

`create_app(config)` builds one app; `app_from_environment` is the factory uvicorn's worker
processes call (`--workers N`), reading the config the parent put in the environment.
"""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ruleengine import __version__
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.schema_export import SCHEMAS
from ruleengine.service.config import ServeConfig
from ruleengine.service.problems import PROBLEM_SCHEMA, ProblemError, problem_response
from ruleengine.service.registry import Registry
from ruleengine.service.requests import ENVELOPE_BYTES
from ruleengine.service.routes import PROGRAM_CALLS, ProgramEndpoints, build_router, program_paths

log = logging.getLogger("ruleengine.service")

OPEN_PATHS = frozenset({"/healthz"})
EXAMPLE_NOW = "2026-06-01T00:00:00Z"
TOKEN_COOKIE = "ruleengine_token"

_STATUS_SLUGS = {
    400: ("invalid-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
}


class BearerAuth:
    """Requires `Authorization: Bearer TOKEN` (or, for the pages in a browser, the cookie that
    `/login` sets) on every path but the health check. Compared in constant time."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or scope["path"] == "/login":
            await self.app(scope, receive, send)
            return
        if self._presented(scope):
            await self.app(scope, receive, send)
            return
        problem = ProblemError(
            401,
            "unauthorized",
            "Unauthorized",
            "send `Authorization: Bearer <token>`; the token is in the server's --token-file",
            headers={"WWW-Authenticate": 'Bearer realm="ruleengine"'},
        )
        await problem_response(problem)(scope, receive, send)

    def _presented(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return hmac.compare_digest(value[7:].strip(), self.token)
            if name == b"cookie":
                for part in value.split(b";"):
                    key, _, cookie = part.strip().partition(b"=")
                    if key == TOKEN_COOKIE.encode() and hmac.compare_digest(cookie, self.token):
                        return True
        return False


def _rebase_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/", 1)
                if key == "$ref" and isinstance(value, str)
                else _rebase_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase_refs(item) for item in node]
    return node


def add_schema(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """A JSON Schema file -> OpenAPI components: its `$defs` move to `components/schemas` and
    every `$ref` follows; `$schema` and `$id` go (an `$id` would rebase the refs inside)."""
    body = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "$defs")}
    for def_name, definition in schema.get("$defs", {}).items():
        components[def_name] = _rebase_refs(definition)
    components[name] = _rebase_refs(body)


def _request_schema(action: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "snapshot": {"$ref": "#/components/schemas/Snapshot"},
        "now": {
            "type": "string",
            "format": "date-time",
            "description": "The moment of evaluation, ISO 8601 with its offset "
            "(`2026-06-01T00:00:00Z`). Required: the server never uses its own clock.",
        },
        "explain": {
            "type": "boolean",
            "default": False,
            "description": "Add `explanations` to the result",
        },
    }
    if action == "explain":
        properties["rule"] = {
            "type": ["string", "null"],
            "description": "Explain only this rule (as `--rule`)",
        }
    fields = PROGRAM_CALLS[action][1]
    properties = {name: schema for name, schema in properties.items() if name in fields}
    return {
        "type": "object",
        "required": ["snapshot", "now"],
        "additionalProperties": False,
        "properties": properties,
    }


_DIAGNOSTIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "snippet",
        "hint",
        "path",
    ],
    "properties": {
        "code": {"type": "string"},
        "severity": {"enum": ["error", "warning", "note"]},
        "message": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "integer"},
        "column": {"type": "integer"},
        "end_line": {"type": "integer"},
        "end_column": {"type": "integer"},
        "snippet": {"type": "string"},
        "hint": {"type": ["string", "null"]},
        "path": {"type": "array", "items": {"type": ["string", "integer"]}},
    },
}


def example_requests(snapshots_dir: str | None) -> dict[str, Any]:
    """Request bodies for the document: each `--snapshots` example with a fixed `now`."""
    folder = Path(snapshots_dir) if snapshots_dir is not None else None
    if folder is None or not folder.is_dir():
        return {}
    examples: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json"))[:20]:
        try:
            snapshot = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            continue  # the customer page reports it; the document just leaves it out
        examples[path.stem] = {
            "summary": path.name,
            "value": {"snapshot": snapshot, "now": EXAMPLE_NOW},
        }
    return examples


def build_openapi(app: FastAPI, programs: list[str], examples: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document; snapshot, result and timeline are the very schemas in `schemas/`.
    `programs` are the programs served now, `examples` example request bodies."""
    document = get_openapi(
        title="ruleengine",
        version=__version__,
        description="Evaluate loyalty rules over HTTP. See docs/service.md.",
        routes=[route for route in app.routes if getattr(route, "include_in_schema", True)],
    )
    document["paths"].update(program_paths(programs, examples))
    document["paths"] = dict(sorted(document["paths"].items()))
    components: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    add_schema(components, "Snapshot", SCHEMAS["snapshot"]())
    add_schema(components, "Result", SCHEMAS["result"]())
    add_schema(components, "Timeline", SCHEMAS["timeline"]())
    components["Problem"] = PROBLEM_SCHEMA
    for action in PROGRAM_CALLS:
        components[f"{action.capitalize()}Request"] = _request_schema(action)
    components["Diagnostic"] = _DIAGNOSTIC_SCHEMA
    components["ValidateReport"] = {
        "type": "object",
        "required": ["files", "diagnostics", "errors", "warnings", "notes"],
        "properties": {
            "files": {"type": "array", "items": {"type": "string"}},
            "diagnostics": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}},
            "errors": {"type": "integer"},
            "warnings": {"type": "integer"},
            "notes": {"type": "integer"},
        },
    }
    components["Health"] = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": "ok"}},
    }
    nullable = {"type": ["string", "null"]}
    components["ProgramList"] = {
        "type": "object",
        "required": ["programs"],
        "properties": {
            "programs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["program", "file", "ruleset_hash", "serving", "error"],
                    "properties": {
                        "program": nullable,
                        "file": {"type": "string"},
                        "ruleset_hash": nullable,
                        "loaded_at": nullable,
                        "serving": {"type": "boolean"},
                        "error": nullable,
                        "duplicate_of": nullable,
                    },
                },
            }
        },
    }
    return document


def create_app(config: ServeConfig, *, limits: Limits = DEFAULT_LIMITS) -> FastAPI:
    """The whole service for `config`; rule files are read once now, then when they change."""
    registry = Registry(Path(config.rules_dir), interval=config.reload_interval, limits=limits)
    registry.refresh(force=True)
    app = FastAPI(
        title="ruleengine",
        version=__version__,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.registry = registry
    app.state.config = config
    app.include_router(build_router(registry, limits))
    from ruleengine.service.pages import build_pages

    app.include_router(build_pages(registry, config, limits))

    documents: dict[tuple[str, ...], dict[str, Any]] = {}  # by the programs served

    def openapi() -> dict[str, Any]:
        programs = registry.serving()
        key = tuple(programs)
        if key not in documents:
            documents.clear()
            documents[key] = build_openapi(app, programs, example_requests(config.snapshots_dir))
        return documents[key]

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, problem: ProblemError) -> Response:
        return problem_response(problem)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> Response:
        slug, title = _STATUS_SLUGS.get(error.status_code, ("http-error", "HTTP error"))
        detail = error.detail if isinstance(error.detail, str) else title
        return problem_response(
            ProblemError(error.status_code, slug, title, detail, headers=dict(error.headers or {}))
        )

    @app.exception_handler(Exception)
    async def on_internal(request: Request, error: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem_response(
            ProblemError(500, "internal", "Internal error", "an internal error; see the server log")
        )

    # The hot path, in front of the framework; the bearer check (added last) comes before it.
    app.add_middleware(
        ProgramEndpoints,
        registry=registry,
        body_limit=limits.max_snapshot_bytes + ENVELOPE_BYTES,
    )
    if config.token is not None:
        app.add_middleware(BearerAuth, token=config.token)
    return app


def app_from_environment() -> FastAPI:
    """The factory for uvicorn worker processes (`ruleengine serve --workers N`)."""
    return create_app(ServeConfig.from_environment())
