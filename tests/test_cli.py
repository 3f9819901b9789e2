"""The real command line, run as a subprocess: output, formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "rules"

VALID = """\
version: 1
program: shop
currency: USD
timezone: UTC
earning:
  - id: order-points
    name: Points per dollar
    on: order
    points: floor(order.subtotal)
"""

BROKEN = VALID.replace("floor(order.subtotal)", "floor(order.subtotl)")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "ruleengine", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_examples_is_clean() -> None:
    # a fixed day inside every example's windows: the result must not depend on the calendar
    result = run("validate", "--today", "2026-06-01", "examples/rules/")
    assert result.returncode == 0, result.stdout
    assert "no problems" in result.stdout


@pytest.mark.parametrize("today", ["1990-01-01", "2026-12-01", "2100-01-01"])
def test_examples_pass_strict_ci_on_any_day(today: str) -> None:
    # the example CI workflow runs `validate --strict`: a campaign that ended is a note, which
    # must not turn a merchant's CI red on the day the campaign ends, nor on any day after
    result = run("validate", "--strict", "--format", "github", "--today", today, "examples/rules/")
    assert result.returncode == 0, result.stdout
    assert "::error" not in result.stdout
    assert "::warning" not in result.stdout


@pytest.mark.parametrize(
    ("today", "message"),
    [
        ("20261201", "is not a date (YYYY-MM-DD): write the date with dashes: `2026-12-01`"),
        ("2026-W48-2", "is not a date (YYYY-MM-DD)"),
        (
            "2026-02-29",
            "is not a day of the calendar: February 2026 has 28 days: there is no day 29",
        ),
        (
            "2026-12-01T00:00",
            "is not a date (YYYY-MM-DD): a date is a whole day, without a time: write `2026-12-01`",
        ),
        ("0999-12-01", "is outside the years 1900 to 9000"),
    ],
)
def test_today_is_written_yyyy_mm_dd(today: str, message: str) -> None:
    # `date.fromisoformat` takes `20261201` and ISO weeks; rule files and the docs say YYYY-MM-DD
    result = run("validate", "--today", today, "examples/rules/")
    assert result.returncode == 2
    assert f"argument --today: `{today}` {message}\n" in result.stderr


def test_ended_windows_are_notes_that_fail_only_when_asked() -> None:
    after = ("--today", "2100-01-01", "examples/rules/urban-threads.yaml")
    result = run("validate", *after)
    assert result.returncode == 0
    assert "note[RE510]" in result.stdout
    assert result.stdout.rstrip().endswith("1 file checked: 2 notes")  # both windows ended
    assert run("validate", "--strict", *after).returncode == 0
    assert run("validate", "--fail-on", "note", *after).returncode == 1
    # --strict is --fail-on warning; with --fail-on note the stricter of the two wins
    assert run("validate", "--strict", "--fail-on", "note", *after).returncode == 1
    assert run("validate", "--fail-on", "note", "--strict", *after).returncode == 1
    payload = json.loads(run("validate", "--format", "json", *after).stdout)
    assert (payload["errors"], payload["warnings"], payload["notes"]) == (0, 0, 2)
    assert [d["severity"] for d in payload["diagnostics"]] == ["note", "note"]
    sarif = json.loads(run("validate", "--format", "sarif", *after).stdout)
    assert [r["level"] for r in sarif["runs"][0]["results"]] == ["note", "note"]
    assert run("validate", "--format", "github", *after).stdout.startswith("::notice ")


def test_validate_reports_location_snippet_and_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.yaml", BROKEN)
    result = run("validate", str(path))
    assert result.returncode == 1
    assert f"{path}:9:25: error[RE402] unknown field `subtotl` on `order`" in result.stdout
    assert "9 |     points: floor(order.subtotl)" in result.stdout
    assert "  |                         ^^^^^^^" in result.stdout
    assert "= hint: did you mean `order.subtotal`?" in result.stdout
    assert_no_traceback(result)


def test_validate_json_format(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.yaml", BROKEN)
    result = run("validate", "--format", "json", str(path))
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["errors"] == 1 and payload["files"] == [str(path)]
    (diagnostic,) = payload["diagnostics"]
    assert {k: diagnostic[k] for k in ("code", "line", "column", "end_column", "path")} == {
        "code": "RE402",
        "line": 9,
        "column": 25,
        "end_column": 32,
        "path": ["earning", 0, "points"],
    }


def test_validate_github_and_sarif_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.yaml", BROKEN)
    github = run("validate", "--format", "github", str(path))
    assert github.stdout.startswith(f"::error file={path},line=9,col=25,")
    sarif = json.loads(run("validate", "--format", "sarif", str(path)).stdout)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "RE402"
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": path.as_uri()}  # absolute: a file:// URI
    relative = json.loads(run("validate", "--format", "sarif", path.name, cwd=tmp_path).stdout)
    location = relative["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "shop.yaml", "uriBaseId": "%SRCROOT%"}


def test_all_errors_of_a_file_in_one_run(tmp_path: Path) -> None:
    text = VALID.replace("on: order", "on: orders").replace("name: Points", "nme: Points")
    result = run("validate", "--format", "json", str(write(tmp_path, "two.yaml", text)))
    codes = [d["code"] for d in json.loads(result.stdout)["diagnostics"]]
    assert codes == ["RE202", "RE201", "RE211"]  # sorted by line: the rule, its key, `on`


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    # a custom event without declared fields is a warning (RE514)
    text = VALID.replace("on: order", "on: custom:quiz").replace("floor(order.subtotal)", "5")
    path = write(tmp_path, "quiz.yaml", text)
    assert run("validate", str(path)).returncode == 0
    strict = run("validate", "--strict", str(path))
    assert strict.returncode == 1
    assert "warning[RE514]" in strict.stdout
    assert run("validate", "--fail-on", "warning", str(path)).returncode == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("broken.yaml", "version: 1\nprogram: [\n", "RE101"),
        ("empty.yaml", "", "RE105"),
        ("latin1.yaml", "version: 1\nprogram: caf\xe9\n".encode("latin-1"), "RE106"),
        ("utf16.yaml", VALID.encode("utf-16"), "RE106"),
        ("list.yaml", "- a\n- b\n", "RE105"),
    ],
)
def test_bad_files_exit_1_with_a_located_error(
    tmp_path: Path, name: str, content: str | bytes, code: str
) -> None:
    result = run("validate", str(write(tmp_path, name, content)))
    assert result.returncode == 1
    assert f"error[{code}]" in result.stdout
    assert_no_traceback(result)


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "RE100" in result.stdout and "no such file" in result.stdout


def test_folder_without_rule_files_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "hello")
    result = run("validate", str(tmp_path))
    assert result.returncode == 2
    assert "no rule files" in result.stderr


def test_unreadable_path_exits_2(tmp_path: Path) -> None:
    # A path "inside" a regular file cannot be opened, even by root (tests run as root in CI,
    # so permission bits would prove nothing).
    parent = write(tmp_path, "plain.yaml", VALID)
    result = run("validate", str(parent / "inner.yaml"))
    assert result.returncode == 2
    assert "error[RE100]" in result.stdout and "cannot be read" in result.stdout
    assert_no_traceback(result)


def test_folders_are_searched_recursively_and_skip_test_files(tmp_path: Path) -> None:
    write(tmp_path, "a/one.yaml", VALID)
    write(tmp_path, "a/b/two.yml", VALID.replace("program: shop", "program: other"))
    write(tmp_path, "a/one.test.yaml", "not: a rule file\n")
    result = run("validate", "--format", "json", str(tmp_path / "a"))
    files = json.loads(result.stdout)["files"]
    assert [Path(f).name for f in files] == ["two.yml", "one.yaml"]
    assert result.returncode == 0


def test_usage_errors_exit_2() -> None:
    assert run("validate").returncode == 2
    assert run("validate", "--format", "xml", "x.yaml").returncode == 2
    assert run().returncode == 2


@pytest.mark.parametrize("command", ["validate", "test", "eval", "explain", "fmt", "schema"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert f"example: ruleengine {command}" in result.stdout


def test_version() -> None:
    assert run("--version").stdout.startswith("ruleengine ")


def test_schema_command_prints_the_checked_in_schema() -> None:
    result = run("schema", "ruleset")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schemas" / "ruleset.schema.json").read_text()
    assert run("schema", "nothing").returncode == 2


@pytest.mark.parametrize(
    "names", [("a.yaml", "b.yml"), ("b.yaml", "a-c.yml"), ("x/z.yaml", "x.yaml")]
)
def test_validate_refuses_a_program_two_files_of_a_folder_define(
    tmp_path: Path, names: tuple[str, str]
) -> None:
    # `serve` would serve one of them only: CI must fail where the service drops a file
    from ruleengine.service.registry import Registry

    text = (ROOT / "examples/rules/acme.yaml").read_text(encoding="utf-8")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "maple.yaml").write_bytes((ROOT / "examples/rules/maple-loyalty.yaml").read_bytes())
    registry = Registry(tmp_path, interval=0)
    registry.refresh(force=True)
    (served,) = [s.file for s in registry.files() if s.program == "acme-rewards" and s.serving]
    (dropped,) = [s.file for s in registry.files() if s.duplicate_of == served]
    # `--today`: notes for windows that ended by the day the tests run are not this test's
    result = run("validate", str(tmp_path), "--format", "json", "--today", "2026-06-01")
    assert result.returncode == 1
    (found,) = json.loads(result.stdout)["diagnostics"]
    assert (found["code"], found["file"], found["line"]) == ("RE524", dropped, 5)
    assert found["message"] == f"program `acme-rewards` is already defined in {served}"
    alone = (str(tmp_path / names[0]), str(tmp_path / "maple.yaml"), "--today", "2026-06-01")
    assert run("validate", *alone).returncode == 0
