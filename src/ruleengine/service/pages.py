"""Server-rendered pages for merchants and support agents: program preview, customer view and
rule check with a scratch editor. Plain HTML from Jinja2 templates (autoescaped), a little
inline CSS, no scripts and no build step.

The customer page offers the snapshots of `--snapshots DIR` by file name only: the name a
browser sends is looked up among the files the server listed, never joined to a path.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from ruleengine.diagnostics.diagnostic import Diagnostic, Severity
from ruleengine.diagnostics.render import render_text
from ruleengine.diagnostics.source import SourceFile
from ruleengine.engine.decisions import EvaluationResult, Progress, money_text
from ruleengine.engine.engine import Engine
from ruleengine.engine.result_text import describe_rewards
from ruleengine.engine.snapshot import Snapshot, SnapshotError
from ruleengine.limits import Limits
from ruleengine.rules.ruleset import check_source
from ruleengine.service.config import ServeConfig
from ruleengine.service.problems import ProblemError
from ruleengine.service.registry import Registry, RuleFileState
from ruleengine.service.requests import parse_now, read_body
from ruleengine.service.wording import (
    amount_words,
    expiry_words,
    program_view,
    spending_view,
    tier_progress,
)

SCRATCH_NAME = "<scratch>"
TOKEN_COOKIE = "ruleengine_token"

_templates = Environment(
    loader=PackageLoader("ruleengine.service", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context))


@dataclass(frozen=True, slots=True)
class Shown:
    """A diagnostic as the pages show it: the ruff-style frame, with its location for tests."""

    code: str
    severity: str
    line: int
    column: int
    frame: str


def shown(found: list[Diagnostic]) -> list[Shown]:
    return [Shown(d.code, d.severity.value, d.line, d.column, render_text(d)) for d in found]


def _errors(found: list[Diagnostic]) -> int:
    return sum(d.severity is Severity.ERROR for d in found)


# -- the customer view ------------------------------------------------------------------------


def _number(value: int | Decimal) -> str:
    return money_text(value) if isinstance(value, Decimal) else str(value)


def journey_steps(engine: Engine, item: Progress) -> list[dict[str, Any]]:
    """Every step of a milestone with a bar: done before the current one, then the current one
    with the customer's amount, then the ones still locked."""
    model = next(m for m in engine.ruleset.model.milestones if m.id == item.rule)
    currency = engine.ruleset.model.currency
    if model.steps:
        targets = [(s.type or model.type).value for s in model.steps]
        descriptions = [s.description or s.name or "" for s in model.steps]
    else:
        targets, descriptions = [model.type.value], [model.description or ""]
    steps = []
    for number in range(1, item.steps + 1):
        metric = targets[number - 1]
        description = descriptions[number - 1]
        if number < item.step or (number == item.step and item.completed):
            state, value, top = "done", 1.0, 1.0
            amount = "done"
        elif number == item.step:
            state = "current"
            value, top = float(item.current), float(item.target) or 1.0
            unit = amount_words(metric, 0, currency).split(" ", 1)[-1]
            amount = f"{_number(item.current)}/{_number(item.target)} {unit}"
            if metric == "amount_spent":
                amount = f"{_number(item.current)}/{_number(item.target)} spent"
        else:
            state, value, top, amount = "locked", 0.0, 1.0, "not started"
        steps.append(
            {
                "number": number,
                "state": state,
                "value": value,
                "max": top,
                "amount": amount,
                "description": description,
                "remaining": item.remaining if state == "current" else None,
            }
        )
    return steps


def points_context(engine: Engine, snapshot: Snapshot, now: datetime) -> dict[str, Any] | None:
    """Balance, coupons, tier and the points history, for a program that keeps points."""
    model = engine.ruleset.model
    if model.points is None and not model.redeeming and model.tiers is None:
        return None
    history = engine.timeline(snapshot, now=now).to_json()
    names = {option.id: option.name for option in model.redeeming}
    return {"timeline": history["entries"], "names": names}


def customer_context(
    engine: Engine, result: EvaluationResult, points: dict[str, Any] | None = None
) -> dict[str, Any]:
    names = {m.id: m.name for m in engine.ruleset.model.milestones}
    model = engine.ruleset.model
    currency = model.currency
    shown = result.to_json()
    tier = shown.get("tier")
    return {
        "points": points,
        "tier": tier_progress(model.tiers, tier, currency) if model.tiers and tier else None,
        "result": shown,
        "journeys": [
            {"rule": p.rule, "name": names.get(p.rule, p.rule), "steps": journey_steps(engine, p)}
            for p in result.progress
        ],
        "decisions": [
            {
                "key": d.key,
                "rewards": describe_rewards(d, currency),
                "status": d.status,
                "achieved_at": d.to_json()["achieved_at"],
            }
            for d in result.decisions
        ],
        "not_fired": [
            e.to_json()
            for e in result.explanations
            if e.status not in ("granted", "already_granted", "pending")
        ],
    }


def evaluate_for_page(engine: Engine, text: str, now: datetime) -> dict[str, Any]:
    """A pasted or chosen snapshot's text, read as `ruleengine eval` reads a file: JSON that
    does not parse (RE611 at its line and column), numbers too long (RE614) and text holding
    half a surrogate pair (RE610) come back as problems, like every snapshot problem."""
    try:
        snapshot = engine.read_snapshot_text(text, name="<page>")
    except SnapshotError as error:
        return {"problems": [p.to_dict() for p in error.problems]}
    result = engine.evaluate(snapshot, now=now, explain=True)
    return customer_context(engine, result, points_context(engine, snapshot, now))


class SnapshotShelf:
    """The example snapshots of `--snapshots DIR`, by file name."""

    def __init__(self, folder: str | None, limit: int) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.limit = limit

    def names(self, rule_file: str) -> list[str]:
        if self.folder is None or not self.folder.is_dir():
            return []
        names = sorted(p.name for p in self.folder.glob("*.json") if p.is_file())
        word = Path(rule_file).stem.split("-")[0] + "-"
        return [n for n in names if n.startswith(word)] + [
            n for n in names if not n.startswith(word)
        ]

    def read(self, name: str, rule_file: str) -> str | None:
        if name not in self.names(rule_file):  # only names this server listed
            return None
        assert self.folder is not None
        path = self.folder / name
        if path.stat().st_size > self.limit:
            return None
        return path.read_text(encoding="utf-8")


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise ProblemError(400, "invalid-request", "Bad request", "not a form") from None
    return {key: values[0] for key, values in fields.items()}


def _program_state(registry: Registry, program: str) -> RuleFileState:
    for state in registry.files():
        if state.serving and state.program == program:
            return state
    raise ProblemError(
        404, "unknown-program", "Unknown program", f"no program `{program}` is served"
    )


def build_pages(registry: Registry, config: ServeConfig, limits: Limits) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    shelf = SnapshotShelf(config.snapshots_dir, limits.max_snapshot_bytes)
    form_limit = 3 * max(limits.max_file_bytes, limits.max_snapshot_bytes) + 4_096  # %-encoding

    @router.get("/")
    async def index() -> Response:
        files = await run_in_threadpool(registry.files)
        return render("index.html", title="Programs", files=files)

    @router.get("/programs/{program}")
    async def program_page(program: str) -> Response:
        state = await run_in_threadpool(_program_state, registry, program)
        assert state.engine is not None
        earning, milestones = program_view(state.engine.ruleset.model)
        redeeming, tiers = spending_view(state.engine.ruleset.model)
        return render(
            "program.html",
            title=state.engine.ruleset.model.name or program,
            program=program,
            state=state,
            ruleset_hash=state.engine.ruleset.hash,
            earning=earning,
            milestones=milestones,
            redeeming=redeeming,
            tiers=tiers,
            expiry=expiry_words(state.engine.ruleset.model),
        )

    _add_customer_pages(router, registry, shelf, form_limit)
    today = date.fromisoformat(config.today) if config.today is not None else None
    _add_check_pages(router, registry, limits, form_limit, today)
    _add_login(router, config.token)
    return router


def _add_customer_pages(
    router: APIRouter, registry: Registry, shelf: SnapshotShelf, form_limit: int
) -> None:
    async def customer_page(
        program: str, snapshot_text: str | None, now_text: str, **more: Any
    ) -> Response:
        state = await run_in_threadpool(_program_state, registry, program)
        engine = state.engine
        assert engine is not None
        context: dict[str, Any] = {"problems": None, "result": None}
        try:
            now = parse_now(now_text)
        except ProblemError as problem:
            # `now: invalid-request has no time zone offset; ...`: the path names the field,
            # so the message does not repeat it.
            message = problem.detail.removeprefix("`now` ")
            context["problems"] = [
                {"code": problem.code, "path": "now", "message": message, "hint": None}
            ]
        else:
            if snapshot_text is not None:
                context = await run_in_threadpool(evaluate_for_page, engine, snapshot_text, now)
        return render(
            "customer.html",
            title=f"{program}: customer view",
            program=program,
            snapshot_names=shelf.names(state.file),
            now_text=now_text,
            **{"problems": None, "result": None, "chosen": None, "pasted": "", **context, **more},
        )

    @router.get("/programs/{program}/customer")
    async def customer_get(program: str, request: Request) -> Response:
        state = await run_in_threadpool(_program_state, registry, program)
        names = shelf.names(state.file)
        chosen = request.query_params.get("snapshot") or (names[0] if names else None)
        now_text = request.query_params.get("now") or datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        text = None
        if chosen is not None:
            text = await run_in_threadpool(shelf.read, chosen, state.file)
            if text is None:
                raise ProblemError(404, "not-found", "Not found", f"no example snapshot `{chosen}`")
        return await customer_page(program, text, now_text, chosen=chosen)

    @router.post("/programs/{program}/customer")
    async def customer_post(program: str, request: Request) -> Response:
        fields = _form(await read_body(request, form_limit, "RE614"))
        text = fields.get("snapshot_json", "")
        return await customer_page(program, text, fields.get("now", ""), pasted=text)


def _add_check_pages(
    router: APIRouter, registry: Registry, limits: Limits, form_limit: int, today: date | None
) -> None:
    @router.get("/check")
    async def check_page() -> Response:
        files = await run_in_threadpool(registry.files)
        items = [
            {"state": s, "found": shown(s.diagnostics), "errors": _errors(s.diagnostics)}
            for s in files
        ]
        return render("check.html", title="Rule check", files=items, scratch=None)

    def scratch_context(index: int, text: str | None) -> dict[str, Any]:
        files = registry.files()
        if not 0 <= index < len(files):
            raise ProblemError(404, "not-found", "Not found", "no such rule file")
        state = files[index]
        text = text if text is not None else (state.text or "")
        source = SourceFile(SCRATCH_NAME, text)
        result = check_source(source, today=today, now=datetime.now(UTC), limits=limits)
        earning = milestones = redeeming = tiers = expiry = None
        if result.ruleset is not None:
            earning, milestones = program_view(result.ruleset.model)
            redeeming, tiers = spending_view(result.ruleset.model)
            expiry = expiry_words(result.ruleset.model)
        return {
            "file": state.file,
            "index": index,
            "text": text,
            "found": shown(result.diagnostics),
            "earning": earning,
            "milestones": milestones,
            "redeeming": redeeming,
            "tiers": tiers,
            "expiry": expiry,
        }

    def _index(text: str) -> int:
        if not text.isdigit():
            raise ProblemError(404, "not-found", "Not found", "no such rule file")
        return int(text)

    @router.get("/check/scratch")
    async def scratch_get(request: Request) -> Response:
        index = _index(request.query_params.get("file", "0"))
        scratch = await run_in_threadpool(scratch_context, index, None)
        return render("check.html", title="Scratch editor", files=[], scratch=scratch)

    @router.post("/check/scratch")
    async def scratch_post(request: Request) -> Response:
        fields = _form(await read_body(request, form_limit, "RE108"))
        index = _index(fields.get("file", "0"))
        scratch = await run_in_threadpool(scratch_context, index, fields.get("text", ""))
        return render("check.html", title="Scratch editor", files=[], scratch=scratch)


def _add_login(router: APIRouter, token: str | None) -> None:
    @router.get("/login")
    async def login_form() -> Response:
        return render("login.html", title="Sign in", failed=False)

    @router.post("/login")
    async def login(request: Request) -> Response:
        fields = _form(await read_body(request, 4_096, "body-too-large"))
        given = fields.get("token", "").strip().encode()
        if token is None or not hmac.compare_digest(given, token.encode()):
            response = render("login.html", title="Sign in", failed=True)
            response.status_code = 401
            return response
        redirect = RedirectResponse("/", status_code=303)
        redirect.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return redirect
