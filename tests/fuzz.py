"""The long run: every fuzzer, through the public API and the installed command line.

    python -m tests.fuzz --minutes 10 --seed 17

Runs each hypothesis fuzzer of `tests/property/`, `tests/test_fmt*.py` and
`tests/test_rule_tests_inputs.py` in turn, a batch of examples at a time with a fresh seed per
batch, plus a fuzzer of its own that runs the installed `ruleengine` on generated rule files
and snapshots (edge timestamps, numbers of any size, free text), until the time is up. It
stops by itself and prints `N inputs, M failures`; each failure's falsifying example goes to
standard error. Not part of the default test run (pytest collects only `test_*.py`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT / "tests", ROOT / "tests" / "property"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402  # after the path
from hypothesis import strategies as st  # noqa: E402

import test_compiler_reference  # noqa: E402
import test_fmt  # noqa: E402
import test_fmt_comments  # noqa: E402
import test_fmt_files  # noqa: E402
import test_fuzz_edges  # noqa: E402
import test_fuzz_engine  # noqa: E402
import test_fuzz_expressions  # noqa: E402
import test_fuzz_models  # noqa: E402
import test_fuzz_yaml  # noqa: E402
import test_replay_property  # noqa: E402
import test_rule_tests_inputs  # noqa: E402
import test_service_robustness  # noqa: E402  # the HTTP API with any code point

MODULES = [
    test_fuzz_expressions,
    test_fuzz_engine,
    test_fuzz_edges,
    test_fuzz_yaml,
    test_fuzz_models,
    test_replay_property,
    test_compiler_reference,
    test_fmt,
    test_fmt_comments,
    test_fmt_files,
    test_rule_tests_inputs,
    test_service_robustness,
]
CLI = Path(sys.executable).parent / "ruleengine"  # the installed entry point


def _cli_args() -> list[str]:
    return [str(CLI)] if CLI.exists() else [sys.executable, "-m", "ruleengine"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_cli_args(), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
    )


def _assert_clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode in (0, 1, 2), f"{what}: exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr, f"{what}\n{result.stderr}"


cli_snapshots = st.fixed_dictionaries(
    {
        "at": test_fuzz_edges.edge_moments.map(lambda m: m.isoformat()),
        "number": test_fuzz_edges.numbers,
        "id": test_fuzz_edges.texts,
    }
)


@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    rules=st.one_of(
        test_fuzz_engine.rulesets(),
        st.builds(
            test_fuzz_edges.rules,
            pending=test_fuzz_edges.day_counts,
            target=test_fuzz_edges.durations,
            zone=st.sampled_from(test_fuzz_edges.ZONES),
        ),
        # streams of documents and empty tagged nodes: `validate` and `fmt` from the shell
        test_fuzz_yaml.document_streams().map(lambda stream: stream[0]),
        test_fuzz_yaml.empty_tagged_files().map(lambda files: files[0]),
    ),
    snapshot=cli_snapshots,
    now=test_fuzz_edges.edge_moments,
)
def fuzz_installed_cli(rules: str, snapshot: dict[str, Any], now: Any) -> None:
    """validate, fmt --check, eval and explain on one generated rule file and snapshot."""
    order = {"type": "order", "id": snapshot["id"], "at": snapshot["at"], "subtotal": "@N@"}
    text = json.dumps({"customer": {"id": "c1"}, "activity": [order]})
    text = text.replace('"@N@"', snapshot["number"])
    with tempfile.TemporaryDirectory() as folder:
        rule_file = Path(folder) / "rules.yaml"
        rule_file.write_text(rules, encoding="utf-8")
        snapshot_file = Path(folder) / "snapshot.json"
        snapshot_file.write_text(text, encoding="utf-8", errors="surrogatepass")
        batch = Path(folder) / "batch.jsonl"
        batch.write_text(text + "\n" + text + "\n", encoding="utf-8", errors="surrogatepass")
        _assert_clean(_run("validate", str(rule_file)), "validate")
        _assert_clean(_run("fmt", "--check", str(rule_file)), "fmt --check")
        now_text = now.isoformat()
        for command in ("eval", "explain"):
            files = (str(rule_file), "--snapshot", str(snapshot_file))
            _assert_clean(_run(command, *files, "--now", now_text), command)
        result = _run("eval", str(rule_file), "--snapshots", str(batch), "--now", now_text)
        _assert_clean(result, "eval --snapshots")


def fuzzers() -> list[tuple[str, Callable[..., None]]]:
    found: list[tuple[str, Callable[..., None]]] = []
    for module in MODULES:
        for name in sorted(vars(module)):
            function = getattr(module, name)
            if name.startswith("test_") and hasattr(function, "hypothesis"):
                found.append((f"{module.__name__}.{name}", function))
    found.append(("fuzz_installed_cli", fuzz_installed_cli))
    return found


def run_batch(function: Callable[..., None], examples: int, batch_seed: int) -> tuple[int, bool]:
    """Run one batch of a fuzzer: (inputs tried, whether it failed)."""
    inner = function.hypothesis.inner_test  # type: ignore[attr-defined]
    calls = 0

    def counted(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        inner(*args, **kwargs)

    function.hypothesis.inner_test = counted  # type: ignore[attr-defined]
    # The fuzzers carry their CI settings; a batch replaces them for its own size and seed.
    own = getattr(function, "_hypothesis_internal_use_settings", None)
    function._hypothesis_internal_use_settings = settings(  # type: ignore[attr-defined]
        own,
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        seed(batch_seed)(function)()
    except Exception:  # a falsifying example: reported, and the run goes on
        traceback.print_exc(file=sys.stderr)
        return calls, True
    finally:
        function.hypothesis.inner_test = inner  # type: ignore[attr-defined]
        function._hypothesis_internal_use_settings = own  # type: ignore[attr-defined]
    return calls, False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=50, help="examples per fuzzer per turn")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.minutes * 60
    inputs, failures, turn = 0, 0, 0
    per_fuzzer: dict[str, list[int]] = {}
    everything = fuzzers()
    while time.monotonic() < deadline:
        for name, function in everything:
            if time.monotonic() >= deadline:
                break
            examples = max(2, args.batch // 10) if name == "fuzz_installed_cli" else args.batch
            tried, failed = run_batch(function, examples, args.seed * 1_000_003 + turn)
            turn += 1
            inputs += tried
            failures += int(failed)
            counts = per_fuzzer.setdefault(name, [0, 0])
            counts[0] += tried
            counts[1] += int(failed)
            if failed:
                print(f"FAILED: {name} (batch seed {args.seed * 1_000_003 + turn - 1})")
    for name, (tried, failed) in per_fuzzer.items():
        print(f"  {name}: {tried} inputs, {failed} failures")
    print(f"{inputs} inputs, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
