"""`ruleengine serve`: its arguments and handler, added to the CLI by one call.

Only `argparse` is imported here at module level, so `ruleengine --help` stays fast and the core
install works without the web stack; the handler imports uvicorn and the app when it runs, and
says how to install them when they are missing (exit 2).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
INSTALL_HINT = "ruleengine serve needs the web server extra: pip install 'ruleengine[serve]'"


def add_serve_command(commands: Any) -> None:
    """Add `serve` to the CLI's subcommands (`commands` is argparse's subparsers action)."""
    serve: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="serve rule files over HTTP, with preview pages",
        description="Serve the rule files below RULES_DIR: a JSON API for hosts in any language "
        "and preview pages for people. Rule files reload when they change and check. "
        "See docs/service.md.",
        epilog="example: ruleengine serve examples/rules/ --snapshots examples/snapshots/",
    )
    serve.add_argument("rules_dir", metavar="RULES_DIR", help="the folder of rule files")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0: any free)")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)"
    )
    serve.add_argument(
        "--token-file",
        metavar="FILE",
        help="require `Authorization: Bearer <token>` (the file's text) on all but /healthz",
    )
    serve.add_argument(
        "--snapshots",
        metavar="DIR",
        help="example snapshots (*.json) the customer page offers (default: none)",
    )
    serve.add_argument(
        "--reload-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="look for changed rule files at most this often, on request (default: 1)",
    )
    serve.add_argument(
        "--today",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the day the rule check pages use for date-dependent notes (default: today)",
    )
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    serve.set_defaults(handler=command_serve)


def _iso_date(text: str) -> str:
    """YYYY-MM-DD only, as `validate --today`."""
    from ruleengine.expr.runtime import parse_day  # not for `--help` (it loads msgspec)

    try:
        return parse_day(text).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fail(message: str) -> int:
    print(f"ruleengine: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def command_serve(args: argparse.Namespace) -> int:
    if any(importlib.util.find_spec(name) is None for name in ("fastapi", "uvicorn", "jinja2")):
        return _fail(INSTALL_HINT)
    if not Path(args.rules_dir).is_dir():
        return _fail(f"`{args.rules_dir}` is not a folder of rule files")
    if args.snapshots is not None and not Path(args.snapshots).is_dir():
        return _fail(f"`{args.snapshots}` is not a folder of snapshots")
    if args.workers < 1:
        return _fail(f"--workers must be 1 or more, not {args.workers}")
    token = None
    if args.token_file is not None:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            return _fail(f"cannot read the token file `{args.token_file}`: {error}")
        if len(token) < 16:
            return _fail("the token in --token-file must be at least 16 characters")

    import uvicorn

    from ruleengine.service.config import ENVIRONMENT_VARIABLE, ServeConfig

    config = ServeConfig(
        rules_dir=args.rules_dir,
        snapshots_dir=args.snapshots,
        token=token,
        reload_interval=args.reload_interval,
        today=args.today,
    )
    # Worker processes build their own app from the environment; one process builds it here.
    os.environ[ENVIRONMENT_VARIABLE] = config.to_environment()
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    # Reloads and broken edits are logged by `ruleengine.service`, beside uvicorn's own lines.
    log_config["loggers"]["ruleengine.service"] = {
        "handlers": ["default"],
        "level": args.log_level.upper(),
        "propagate": False,
    }
    uvicorn.run(
        "ruleengine.service.app:app_from_environment",
        log_config=log_config,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
        server_header=False,
    )
    return 0
