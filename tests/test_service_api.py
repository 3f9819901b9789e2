"""The HTTP API through the ASGI test client: same bytes as the CLI, problems, limits, auth,
reloads."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from ruleengine import Engine, cli, load_ruleset
from ruleengine.engine.snapshot import SnapshotError
from ruleengine.limits import Limits
from service_support import (
    EXAMPLE_RULES,
    EXAMPLE_SNAPSHOTS,
    NOW,
    TOKEN,
    copy_rules,
    make_client,
    rule_file_for,
)

SNAPSHOTS = sorted(p.name for p in EXAMPLE_SNAPSHOTS.glob("*.json"))
NOWS = ["2026-04-10T00:00:00Z", "2026-06-01T00:00:00Z", "2026-11-15T09:30:00-05:00"]


@pytest.fixture(scope="module", params=["thread_pool", "event_loop"])
def client(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Any:
    """Every answer is checked on both paths: with reloads due on each request, everything
    goes to the thread pool; with none due, small bodies are answered on the event loop."""
    interval = 0.0 if request.param == "thread_pool" else 3600.0
    return make_client(copy_rules(tmp_path_factory.mktemp("api")), reload_interval=interval)


def cli_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    code = cli.main(list(args))
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def program_of(rule_file: Path) -> str:
    for line in rule_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("program:"):
            return line.split(":", 1)[1].split("#")[0].strip()
    raise AssertionError(rule_file)


def envelope(snapshot_name: str, now: str, **more: Any) -> bytes:
    text = (EXAMPLE_SNAPSHOTS / snapshot_name).read_text(encoding="utf-8")
    extra = "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in more.items())
    return f'{{"snapshot": {text}, "now": {json.dumps(now)}{extra}}}'.encode()


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("name", SNAPSHOTS)
def test_evaluate_gives_the_bytes_of_ruleengine_eval(
    client: Any, capsys: pytest.CaptureFixture[str], name: str, now: str
) -> None:
    rules = rule_file_for(name)
    expected = cli_output(
        capsys, "eval", str(rules), "--snapshot", str(EXAMPLE_SNAPSHOTS / name), "--now", now
    )
    response = client.post(
        f"/v1/programs/{program_of(rules)}/evaluate", content=envelope(name, now)
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == expected


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_explain_gives_the_bytes_of_ruleengine_explain(
    client: Any, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    rules = rule_file_for(name)
    expected = cli_output(
        capsys,
        "explain",
        str(rules),
        "--snapshot",
        str(EXAMPLE_SNAPSHOTS / name),
        "--now",
        NOW,
        "--format",
        "json",
    )
    response = client.post(f"/v1/programs/{program_of(rules)}/explain", content=envelope(name, NOW))
    assert (response.status_code, response.text) == (200, expected)


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_timeline_gives_the_bytes_of_ruleengine_timeline(
    client: Any, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    rules = rule_file_for(name)
    snapshot_file = str(EXAMPLE_SNAPSHOTS / name)
    args = ("timeline", str(rules), "--snapshot", snapshot_file, "--now", NOW, "--format", "json")
    expected = cli_output(capsys, *args)
    response = client.post(
        f"/v1/programs/{program_of(rules)}/timeline", content=envelope(name, NOW)
    )
    assert (response.status_code, response.text) == (200, expected)
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("name", "rule"), [("aurora-lea.json", "tiers"), ("aurora-lea.json", "ten-off")]
)
def test_explain_takes_every_id_the_cli_takes(
    client: Any, capsys: pytest.CaptureFixture[str], name: str, rule: str
) -> None:
    """`tiers` ("why didn't I level up?") and redeeming options, as `explain --rule` takes them."""
    rules = rule_file_for(name)
    snapshot_file = str(EXAMPLE_SNAPSHOTS / name)
    args = ("explain", str(rules), "--snapshot", snapshot_file, "--now", NOW, "--rule", rule)
    expected = cli_output(capsys, *args, "--format", "json")
    response = client.post(
        f"/v1/programs/{program_of(rules)}/explain", content=envelope(name, NOW, rule=rule)
    )
    assert (response.status_code, response.text) == (200, expected)
    assert {e["rule"] for e in response.json()} == {rule}


def test_explain_one_rule_and_evaluate_with_explanations(client: Any) -> None:
    one = client.post(
        "/v1/programs/acme-rewards/explain",
        content=envelope("acme-maria.json", NOW, rule="loyalty-journey"),
    ).json()
    assert one and {e["rule"] for e in one} == {"loyalty-journey"}
    result = client.post(
        "/v1/programs/acme-rewards/evaluate",
        content=envelope("acme-maria.json", NOW, explain=True),
    ).json()
    assert [e["rule"] for e in result["explanations"]][:1] and "decisions" in result


RULE_FILES = sorted(p for p in EXAMPLE_RULES.glob("*.yaml") if not p.name.endswith(".test.yaml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_validate_gives_the_bytes_of_ruleengine_validate(
    client: Any, capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    relative = str(path.relative_to(EXAMPLE_RULES.parent.parent))
    capsys.readouterr()
    cli.main(["validate", str(path), "--format", "json", "--today", "2026-06-01"])
    expected = capsys.readouterr().out.replace(str(path), relative)
    response = client.post(
        "/v1/validate",
        params={"name": relative, "today": "2026-06-01"},
        content=path.read_bytes(),
        headers={"content-type": "application/yaml"},
    )
    assert (response.status_code, response.text) == (200, expected)


def test_validate_locates_a_broken_rule(client: Any) -> None:
    text = (EXAMPLE_RULES / "acme.yaml").read_text(encoding="utf-8")
    broken = text.replace("order.subtotal >= 20", "order.subtotl >= 20", 1)
    assert broken != text
    report = client.post(
        "/v1/validate", content=broken.encode(), headers={"content-type": "application/yaml"}
    ).json()
    (error,) = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert (error["code"], error["file"], error["hint"]) == (
        "RE402",
        "<string>",
        "did you mean `order.subtotal`?",
    )
    assert report["errors"] == 1 and report["files"] == ["<string>"]


def test_programs_lists_each_rule_file(client: Any) -> None:
    listing = client.get("/v1/programs").json()["programs"]
    assert [(p["program"], Path(p["file"]).name, p["serving"], p["error"]) for p in listing] == [
        ("acme-rewards", "acme.yaml", True, None),
        ("aurora-beauty", "aurora-beauty.yaml", True, None),
        ("greenleaf-market", "greenleaf-market.yaml", True, None),
        ("maple-loyalty", "maple-loyalty.yaml", True, None),
        ("northwind-coffee", "northwind-coffee.yaml", True, None),
        ("urban-threads", "urban-threads.yaml", True, None),
    ]
    assert all(p["ruleset_hash"].startswith("sha256:") for p in listing)


def test_healthz(client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def problem(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    data: dict[str, Any] = response.json()
    assert data["status"] == response.status_code
    assert data["type"].startswith("https://ruleengine.dev/problems/")
    return {k: data[k] for k in ("code", "status") if k in data} | (
        {"problems": data["problems"]} if "problems" in data else {}
    )


BAD_BODIES = {
    "not_json": (b"{", 400, "RE611"),
    "not_utf8": (b"\xff\xfe", 400, "RE611"),
    "too_deep": (b"[" * 100_000 + b"]" * 100_000, 400, "RE614"),
    "not_an_object": (b"[]", 422, "invalid-request"),
    "no_now": (b'{"snapshot": {}}', 422, "invalid-request"),
    "now_without_zone": (b'{"snapshot": {}, "now": "2026-06-01T00:00:00"}', 422, "invalid-request"),
    "now_not_a_time": (b'{"snapshot": {}, "now": "tomorrow"}', 422, "invalid-request"),
    "now_a_number": (b'{"snapshot": {}, "now": 5}', 422, "invalid-request"),
    "now_past_the_supported_years": (
        b'{"snapshot": {}, "now": "9999-12-31T23:59:00Z"}',
        422,
        "invalid-request",
    ),
    "integer_past_the_digit_limit": (
        b'{"snapshot": {}, "now": "2026-06-01T00:00:00Z", "x": ' + b"9" * 5000 + b"}",
        400,
        "RE614",
    ),
    "no_snapshot": (b'{"now": "2026-06-01T00:00:00Z"}', 422, "invalid-request"),
    "unknown_field": (
        b'{"snapshot": {}, "now": "2026-06-01T00:00:00Z", "x": 1}',
        422,
        "invalid-request",
    ),
    "explain_not_bool": (
        b'{"snapshot": {}, "now": "2026-06-01T00:00:00Z", "explain": "yes"}',
        422,
        "invalid-request",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_bad_requests_are_problems(client: Any, name: str) -> None:
    body, status, code = BAD_BODIES[name]
    response = client.post("/v1/programs/acme-rewards/evaluate", content=body)
    assert problem(response) == {"code": code, "status": status}


@pytest.mark.parametrize(
    ("action", "field"),
    [("explain", "explain"), ("timeline", "explain"), ("timeline", "rule"), ("evaluate", "rule")],
)
def test_each_endpoint_takes_only_its_own_fields(client: Any, action: str, field: str) -> None:
    body = envelope("acme-maria.json", NOW, **{field: "x" if field == "rule" else True})
    response = client.post(f"/v1/programs/acme-rewards/{action}", content=body)
    assert problem(response) == {"code": "invalid-request", "status": 422}


def test_bad_snapshot_reports_codes_and_json_paths_like_the_cli(client: Any) -> None:
    body = (
        b'{"snapshot": {"customer": {"id": 5}, "activity": [{"type": "order"}]},'
        b' "now": "2026-06-01T00:00:00Z"}'
    )
    response = client.post("/v1/programs/acme-rewards/evaluate", content=body)
    found = problem(response)
    assert found["status"] == 422 and found["code"] == "RE610"
    assert [(p["code"], p["path"]) for p in found["problems"]] == [
        ("RE610", "$.customer.id"),
        ("RE610", "$.activity[0].id"),
        ("RE610", "$.activity[0].at"),
        ("RE610", "$.activity[0].subtotal"),
    ]


def test_integers_of_40_digits_are_re614_like_the_cli(client: Any) -> None:
    text = (EXAMPLE_SNAPSHOTS / "acme-maria.json").read_text(encoding="utf-8")
    long = text.replace('"subtotal": "42.50"', '"subtotal": ' + "9" * 40, 1)
    assert long != text
    with pytest.raises(SnapshotError) as caught:  # what `ruleengine eval` reports
        Engine(load_ruleset(EXAMPLE_RULES / "acme.yaml")).read_snapshot_text(long)
    assert [p.code for p in caught.value.problems] == ["RE614"]
    body = f'{{"snapshot": {long}, "now": "{NOW}"}}'
    response = client.post("/v1/programs/acme-rewards/evaluate", content=body.encode())
    assert problem(response) == {"code": "RE614", "status": 400}
    offset = body.index("9" * 40)
    line, column = body.count("\n", 0, offset) + 1, offset - body.rfind("\n", 0, offset)
    assert response.json()["detail"].startswith(f"{line}:{column}: ")


@pytest.mark.parametrize(("digits", "code", "status"), [(30, "RE610", 422), (31, "RE614", 400)])
def test_the_digit_limit_is_the_clis_exactly(
    client: Any, digits: int, code: str, status: int
) -> None:
    # 30 digits: read, and past `points`' own bound only by the sign; 31: refused as JSON text.
    number = "-" + "9" * digits
    snapshot = (
        '{"customer": {"id": "c1", "region": "EU"}, "activity": [{"type": "redemption", '
        '"id": "r1", "at": "2026-02-01T00:00:00Z", "program": "p", "coupon": "C", '
        f'"points": {number}}}]}}'
    )
    body = f'{{"snapshot": {snapshot}, "now": "{NOW}"}}'
    response = client.post("/v1/programs/acme-rewards/evaluate", content=body.encode())
    assert (response.json()["code"], response.status_code) == (code, status)
    if code == "RE614":
        assert response.json()["detail"].startswith(f"1:{body.index(number) + 1}: ")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_invalid_json(client: Any, constant: str) -> None:
    text = (EXAMPLE_SNAPSHOTS / "acme-maria.json").read_text(encoding="utf-8")
    bad = text.replace('"subtotal": "42.50"', '"subtotal": ' + constant, 1)
    assert bad != text
    body = f'{{"snapshot": {bad}, "now": "{NOW}"}}'
    response = client.post("/v1/programs/acme-rewards/evaluate", content=body.encode())
    assert problem(response) == {"code": "RE611", "status": 400}
    offset = body.index(constant)
    line, column = body.count("\n", 0, offset) + 1, offset - body.rfind("\n", 0, offset)
    assert response.json()["detail"] == (
        f"{line}:{column}: the body is not valid JSON: `{constant}` is not a JSON number "
        "(strict JSON has no NaN or Infinity)"
    )


@pytest.mark.parametrize("snapshot", ["[]", "5", "null", '"x"'])
def test_a_snapshot_that_is_not_an_object_is_named_so(client: Any, snapshot: str) -> None:
    body = f'{{"snapshot": {snapshot}, "now": "{NOW}"}}'
    response = client.post("/v1/programs/acme-rewards/evaluate", content=body.encode())
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"code": "RE610", "path": "$", "message": "a snapshot must be a JSON object", "hint": None}
    ]
    assert response.json()["detail"] == "$: a snapshot must be a JSON object"


@pytest.mark.parametrize(
    ("now", "written"),
    [("2026-06-01", "2026-06-01T00:00:00"), ("2026-06-01T10:30", "2026-06-01T10:30:00")],
)
def test_now_without_an_offset_suggests_forms_that_are_accepted(
    client: Any, now: str, written: str
) -> None:
    path = "/v1/programs/acme-rewards/evaluate"
    response = client.post(path, content=envelope("acme-maria.json", now))
    assert problem(response) == {"code": "invalid-request", "status": 422}
    assert response.json()["detail"] == (
        f"`now` has no time zone offset; write it as `{written}Z` or with an offset, "
        f"like `{written}+02:00`"
    )
    for suggested in (f"{written}Z", f"{written}+02:00"):  # each hint is a valid `now`
        assert client.post(path, content=envelope("acme-maria.json", suggested)).status_code == 200


def test_the_customer_page_names_a_bad_now_once(client: Any) -> None:
    page = client.get("/programs/acme-rewards/customer?snapshot=acme-maria.json&now=2026-06-01")
    assert page.status_code == 200
    assert (
        '<code>now</code>: <span class="error">invalid-request</span> has no time zone offset; '
        "write it as `2026-06-01T00:00:00Z`"
    ) in page.text


@pytest.mark.parametrize("action", ["evaluate", "explain", "timeline"])
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=latin-1",
        None,  # no Content-Type at all
    ],
)
def test_a_body_not_sent_as_json_is_415(client: Any, action: str, content_type: str | None) -> None:
    # A valid body: only its Content-Type is wrong (a form or a text/plain fetch from another
    # site is sent without a CORS preflight; JSON never is).
    body = envelope("acme-maria.json", NOW)
    request = client.build_request("POST", f"/v1/programs/acme-rewards/{action}", content=body)
    if content_type is None:
        del request.headers["content-type"]
    else:
        request.headers["content-type"] = content_type
    response = client.send(request)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["accept-post"] == "application/json"
    data = response.json()
    assert {k: data[k] for k in ("type", "title", "status", "code")} == {
        "type": "https://ruleengine.dev/problems/unsupported-media-type",
        "title": "Unsupported media type",
        "status": 415,
        "code": "unsupported-media-type",
    }


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'Application/JSON;charset="UTF-8"',
        "application/vnd.ruleengine+json",
    ],
)
def test_json_media_types_are_accepted(client: Any, content_type: str) -> None:
    response = client.post(
        "/v1/programs/acme-rewards/evaluate",
        content=envelope("acme-maria.json", NOW),
        headers={"content-type": content_type},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/yaml", 200),
        ("text/plain; charset=utf-8", 200),
        ("application/x-www-form-urlencoded", 415),
        ("application/json", 415),
    ],
)
def test_validate_reads_yaml_or_plain_text(client: Any, content_type: str, status: int) -> None:
    text = (EXAMPLE_RULES / "acme.yaml").read_bytes()
    response = client.post("/v1/validate", content=text, headers={"content-type": content_type})
    assert response.status_code == status


def test_the_pages_forms_still_post_as_forms(client: Any) -> None:
    text = (EXAMPLE_SNAPSHOTS / "acme-maria.json").read_text(encoding="utf-8")
    page = client.post("/programs/acme-rewards/customer", data={"snapshot_json": text, "now": NOW})
    assert page.status_code == 200 and "Cannot evaluate" not in page.text


def test_unknown_program_rule_and_route(client: Any) -> None:
    assert problem(client.post("/v1/programs/nope/evaluate", content=b"{}")) == {
        "code": "unknown-program",
        "status": 404,
    }
    response = client.post(
        "/v1/programs/acme-rewards/explain", content=envelope("acme-maria.json", NOW, rule="nope")
    )
    assert problem(response) == {"code": "unknown-rule", "status": 422}
    assert problem(client.get("/v1/nothing-here")) == {"code": "not-found", "status": 404}
    assert problem(client.get("/v1/validate")) == {"code": "method-not-allowed", "status": 405}


def test_other_methods_on_a_program_endpoint_are_405(client: Any) -> None:
    response = client.get("/v1/programs/acme-rewards/evaluate")
    assert problem(response) == {"code": "method-not-allowed", "status": 405}
    assert response.headers["allow"] == "POST"


def test_a_bug_is_a_500_problem_and_logged(
    client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ruleengine.service import routes

    def broken(*args: Any) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(routes, "answer", broken)
    response = client.post(
        "/v1/programs/acme-rewards/evaluate", content=envelope("acme-maria.json", NOW)
    )
    assert problem(response) == {"code": "internal", "status": 500}
    assert "a bug" not in response.text
    assert any("internal error" in r.message for r in caplog.records)


def test_body_limit_is_enforced_before_reading(tmp_path: Path) -> None:
    small = make_client(copy_rules(tmp_path), limits=Limits(max_snapshot_bytes=1_000))
    big = envelope("acme-maria.json", NOW).replace(b"{", b"{" + b" " * 5_000, 1)
    response = small.post("/v1/programs/acme-rewards/evaluate", content=big)
    assert problem(response) == {"code": "RE614", "status": 413}

    def chunks() -> Any:  # no Content-Length: counted while it streams
        yield big[:3000]
        yield big[3000:]

    response = small.post("/v1/programs/acme-rewards/evaluate", content=chunks())
    assert problem(response) == {"code": "RE614", "status": 413}
    response = small.post(
        "/v1/validate", content=b"#" * (1_048_576 + 1), headers={"content-type": "application/yaml"}
    )
    assert problem(response) == {"code": "RE108", "status": 413}


def test_token_is_required_for_all_but_health(tmp_path: Path) -> None:
    guarded = make_client(copy_rules(tmp_path), token=TOKEN)
    assert guarded.get("/healthz").status_code == 200
    for path in ("/v1/programs", "/openapi.json", "/", "/check"):
        response = guarded.get(path)
        assert problem(response) == {"code": "unauthorized", "status": 401}, path
        assert response.headers["www-authenticate"].startswith("Bearer")
    for action in ("evaluate", "explain", "timeline"):
        response = guarded.post(
            f"/v1/programs/acme-rewards/{action}", content=envelope("acme-maria.json", NOW)
        )
        assert problem(response) == {"code": "unauthorized", "status": 401}, action
    signed = guarded.post(
        "/v1/programs/acme-rewards/evaluate",
        content=envelope("acme-maria.json", NOW),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert signed.status_code == 200
    wrong = guarded.get("/v1/programs", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    right = guarded.get("/v1/programs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200


def write_later(path: Path, text: str) -> None:
    """Rewrite a file so its modification time surely changes (coarse clocks round it)."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        import os

        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_reload_takes_good_edits_and_keeps_the_last_good_version(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    client = make_client(rules)
    acme = rules / "acme.yaml"
    good = acme.read_text(encoding="utf-8")
    first = client.post(
        "/v1/programs/acme-rewards/evaluate", content=envelope("acme-maria.json", NOW)
    ).json()

    write_later(acme, good.replace("order.subtotal >= 20", "order.subtotl >= 20", 1))
    still = client.post(
        "/v1/programs/acme-rewards/evaluate", content=envelope("acme-maria.json", NOW)
    ).json()
    assert still["ruleset_hash"] == first["ruleset_hash"]
    (entry,) = [
        p for p in client.get("/v1/programs").json()["programs"] if p["program"] == "acme-rewards"
    ]
    assert entry["serving"] and "RE402" in entry["error"] and entry["file"].endswith("acme.yaml")

    write_later(
        acme,
        good.replace("points: floor(order.subtotal * 5)", "points: floor(order.subtotal * 6)", 1),
    )
    changed = client.post(
        "/v1/programs/acme-rewards/evaluate", content=envelope("acme-maria.json", NOW)
    ).json()
    assert changed["ruleset_hash"] != first["ruleset_hash"]
    (entry,) = [
        p for p in client.get("/v1/programs").json()["programs"] if p["program"] == "acme-rewards"
    ]
    assert entry["error"] is None

    (rules / "extra.yaml").write_text("version: 1\n", encoding="utf-8")
    listing = client.get("/v1/programs").json()["programs"]
    (extra,) = [p for p in listing if p["file"].endswith("extra.yaml")]
    assert extra["program"] is None and not extra["serving"] and "RE2" in extra["error"]
    time.sleep(0)  # nothing waits on a clock: reload_interval is 0 in these clients


def test_browser_signs_in_once_with_the_token(tmp_path: Path) -> None:
    guarded = make_client(copy_rules(tmp_path), token=TOKEN)
    assert guarded.post("/login", data={"token": "wrong"}).status_code == 401
    signed_in = guarded.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert "httponly" in signed_in.headers["set-cookie"].lower()
    assert guarded.get("/").status_code == 200  # the client keeps the cookie


@pytest.mark.parametrize("today", ["20260601", "2026-W23-1", "2026-02-30", "0999-06-01"])
def test_validate_takes_today_as_the_cli_does(client: Any, today: str) -> None:
    # `date.fromisoformat` reads `2026-W23-1` as an ISO week's day; `validate --today` refuses it
    response = client.post(
        "/v1/validate",
        params={"today": today},
        content=b"version: 1\n",
        headers={"content-type": "application/yaml"},
    )
    assert response.status_code == 422
    assert f"`today`: `{today}` is" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/programs/acme-rewards/evaluate", "/v1/validate"])
@pytest.mark.parametrize("coding", ["gzip", "br", "deflate, gzip"])
def test_a_compressed_body_is_415_with_the_coding_to_use(
    client: Any, path: str, coding: str
) -> None:
    # was 400 "the body is not UTF-8 text": the coding is what the server does not take
    if "evaluate" in path:
        plain, media = envelope("acme-maria.json", NOW), "application/json"
    else:
        plain, media = (EXAMPLE_RULES / "acme.yaml").read_bytes(), "application/yaml"
    response = client.post(
        path,
        content=gzip.compress(plain),
        headers={"content-type": media, "content-encoding": coding},
    )
    assert response.status_code == 415
    assert response.headers["accept-encoding"] == "identity"
    assert "uncompressed" in response.json()["detail"]
    headers = {"content-type": media, "content-encoding": "identity"}
    assert client.post(path, content=plain, headers=headers).status_code == 200


def test_health_answers_head_as_get(client: Any) -> None:
    got, head = client.get("/healthz"), client.head("/healthz")
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
