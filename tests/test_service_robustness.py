"""The service with hostile input: half a surrogate pair anywhere in a request, and the split
between the event loop and the thread pool. The fuzzers here also run in `python -m tests.fuzz`.

Half of a surrogate pair (`"\\uD800"` alone) can only come from a JSON or YAML escape. Python
reads it into a `str` no encoding can write, so a result or a problem that names it would fail
as it is sent. The service refuses it as the CLI does: RE610 at the snapshot's JSON path, RE106
in a rule file, a 422 in the request envelope; never a 500.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.engine.snapshot import SnapshotError
from ruleengine.service import routes
from service_support import EXAMPLE_RULES, EXAMPLE_SNAPSHOTS, NOW, copy_rules, make_client

ACTIONS = ("evaluate", "explain", "timeline")
MARIA = json.loads((EXAMPLE_SNAPSHOTS / "acme-maria.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_client(copy_rules(tmp_path_factory.mktemp("robust")), reload_interval=3600)


_CLIENT: list[Any] = []


def shared_client() -> Any:
    """One client for the fuzzers, which hypothesis calls without pytest's fixtures."""
    if not _CLIENT:
        import tempfile

        _CLIENT.append(
            make_client(
                copy_rules(Path(tempfile.mkdtemp(prefix="ruleengine-fuzz-"))), reload_interval=3600
            )
        )
    return _CLIENT[0]


def cli_problems(snapshot_text: str) -> list[dict[str, Any]]:
    """What `ruleengine eval` reports for this snapshot text (its reader, as a record)."""
    engine = Engine(load_ruleset(EXAMPLE_RULES / "acme.yaml"))
    with pytest.raises(SnapshotError) as caught:
        engine.read_snapshot_text(snapshot_text)
    return [problem.to_dict() for problem in caught.value.problems]


def post(client: Any, action: str, body: bytes) -> Any:
    response = client.post(f"/v1/programs/acme-rewards/{action}", content=body)
    response.content.decode("utf-8")  # whatever it answers can be written
    return response


@pytest.mark.parametrize("action", ACTIONS)
def test_lone_surrogates_in_a_snapshot_are_re610_at_their_paths_like_the_cli(
    client: Any, action: str
) -> None:
    snapshot = json.loads(json.dumps(MARIA))
    snapshot["customer"]["tags"] = ["vip\udc00"]
    snapshot["activity"][0]["id"] = "o\ud800"
    snapshot["activity"][1]["\udfff"] = 1  # a key: reported at its object
    text = json.dumps(snapshot)  # ensure_ascii: `\ud800` escapes, as a host would send
    response = post(client, action, f'{{"snapshot": {text}, "now": "{NOW}"}}'.encode())
    assert response.status_code == 422
    answer = response.json()
    assert answer["code"] == "RE610"
    assert answer["problems"] == cli_problems(text)
    assert [p["path"] for p in answer["problems"]] == [
        "$.customer.tags[0]",
        "$.activity[0].id",
        "$.activity[1]",
    ]


def test_a_surrogate_pair_written_as_two_escapes_is_one_character(client: Any) -> None:
    snapshot = json.loads(json.dumps(MARIA))
    snapshot["activity"][0]["id"] = "order-\U0001f600"
    text = json.dumps(snapshot)
    assert "\\ud83d\\ude00" in text
    response = post(client, "evaluate", f'{{"snapshot": {text}, "now": "{NOW}"}}'.encode())
    assert response.status_code == 200
    assert "order-\U0001f600" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"snapshot": {}, "now": "2026-06-01T00:00:00Z", "rule": "loyalty\\ud800"}',
        b'{"snapshot": {}, "now": "2026-06-01T00:00:00Z", "\\udc00": 1}',
        b'{"snapshot": {}, "now": "2026-06-01T00:00:00\\ud800"}',
    ],
    ids=["rule", "unknown_field", "now"],
)
def test_lone_surrogates_in_the_envelope_are_invalid_requests(client: Any, body: bytes) -> None:
    response = post(client, "explain", body)
    assert (response.status_code, response.json()["code"]) == (422, "invalid-request")


def test_lone_surrogate_in_rule_text_is_re106(client: Any) -> None:
    text = (EXAMPLE_RULES / "acme.yaml").read_text(encoding="utf-8")
    broken = text.replace("currency: USD", 'currency: "\\uD800"', 1)
    assert broken != text
    response = client.post(
        "/v1/validate", content=broken.encode(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200
    assert [d["code"] for d in response.json()["diagnostics"]] == ["RE106"]
    page = client.post("/check/scratch", data={"file": "0", "text": broken})
    assert page.status_code == 200 and "RE106" in page.text


def test_pasted_snapshot_with_a_lone_surrogate_is_a_problem_on_the_page(client: Any) -> None:
    snapshot = json.loads(json.dumps(MARIA))
    snapshot["activity"][0]["id"] = "o\ud800"
    page = client.post(
        "/programs/acme-rewards/customer", data={"snapshot_json": json.dumps(snapshot), "now": NOW}
    )
    assert page.status_code == 200
    assert "RE610" in page.text and "$.activity[0].id" in page.text


# -- where each request runs -------------------------------------------------------------------


@pytest.fixture
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    trips: list[str] = []
    real = routes.run_in_threadpool

    async def counted(function: Any, *args: Any) -> Any:
        trips.append(args[1] if function is routes.answer else function.__name__)
        return await real(function, *args)

    monkeypatch.setattr(routes, "run_in_threadpool", counted)
    return trips


def test_small_bodies_run_on_the_loop_big_ones_and_reloads_in_the_thread_pool(
    tmp_path: Path, thread_trips: list[str]
) -> None:
    for name in ("quiet", "due"):
        (tmp_path / name).mkdir()
    quiet = make_client(copy_rules(tmp_path / "quiet"), reload_interval=3600)
    small = f'{{"snapshot": {json.dumps(MARIA)}, "now": "{NOW}"}}'.encode()
    assert len(small) <= routes.INLINE_BODY_BYTES
    big = small.replace(b"{", b"{" + b" " * routes.INLINE_BODY_BYTES, 1)
    first = quiet.post("/v1/programs/acme-rewards/evaluate", content=small)
    assert thread_trips == []
    second = quiet.post("/v1/programs/acme-rewards/evaluate", content=big)
    assert thread_trips == ["evaluate"]
    assert (first.status_code, first.text) == (second.status_code, second.text)

    due = make_client(copy_rules(tmp_path / "due"), reload_interval=0)
    third = due.post("/v1/programs/acme-rewards/timeline", content=small)
    assert third.status_code == 200
    assert thread_trips == ["evaluate", "timeline"]


# -- fuzzers (also run by `python -m tests.fuzz`) ----------------------------------------------

texts = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
        st.sampled_from('ab/%\\"é😀 '),
    ),
    min_size=1,
    max_size=6,
)
PLACES = ["customer.id", "customer.tags", "order.id", "order.channel", "order.key", "granted"]
fuzz_settings = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@fuzz_settings
@given(action=st.sampled_from(ACTIONS), place=st.sampled_from(PLACES), text=texts)
def test_snapshot_text_of_any_code_point_is_answered_or_refused(
    action: str, place: str, text: str
) -> None:
    snapshot = json.loads(json.dumps(MARIA))
    order = snapshot["activity"][0]
    if place == "customer.id":
        snapshot["customer"]["id"] = text
    elif place == "customer.tags":
        snapshot["customer"]["tags"] = [text]
    elif place == "granted":
        snapshot["granted"] = [text]
    elif place == "order.key":
        order[text] = "x"
    else:
        order[place.split(".")[1]] = text
    snapshot_text = json.dumps(snapshot)
    response = post(
        shared_client(), action, f'{{"snapshot": {snapshot_text}, "now": "{NOW}"}}'.encode()
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["problems"] == cli_problems(snapshot_text)


@fuzz_settings
@given(
    action=st.sampled_from(ACTIONS),
    field=st.sampled_from(["now", "rule", "explain", "key"]),
    text=texts,
)
def test_envelope_text_of_any_code_point_is_answered_or_refused(
    action: str, field: str, text: str
) -> None:
    envelope: dict[str, Any] = {"snapshot": MARIA, "now": NOW}
    if field == "key":
        envelope[text] = 1
    else:
        envelope[field] = text
    response = post(shared_client(), action, json.dumps(envelope).encode())
    assert response.status_code in (200, 422), response.text


class HeldLock:
    """A lock another thread holds (a reload in progress): waiting on it would hang."""

    def __init__(self) -> None:
        self.tries: list[bool] = []

    def acquire(self, blocking: bool = True) -> bool:
        self.tries.append(blocking)
        assert not blocking, "a request waited for another thread's reload"
        return False

    def release(self) -> None:
        raise AssertionError("never acquired")


def test_a_request_never_waits_for_a_reload_in_another_thread(tmp_path: Path) -> None:
    from ruleengine.service.registry import Registry

    registry = Registry(copy_rules(tmp_path), interval=0)
    registry.refresh(force=True)
    held = HeldLock()
    registry._lock = held  # type: ignore[assignment]  # a reload is under way elsewhere
    engine = registry.engine("acme-rewards")  # answered from what is loaded
    assert engine is not None and engine.ruleset.program == "acme-rewards"
    assert held.tries == [False]
