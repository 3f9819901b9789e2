"""What one server runs with, kept in one value that travels to worker processes as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ENVIRONMENT_VARIABLE = "RULEENGINE_SERVE_CONFIG"


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """The settings of `ruleengine serve`.

    `token` is the bearer token itself (read from `--token-file` by the command, never from a
    path a client names); `reload_interval` is how many seconds may pass before a request looks
    at the rule files' modification times again (0: on every request); `today` pins the day the
    rule check pages use for date-dependent notes, as `validate --today` does.
    """

    rules_dir: str
    snapshots_dir: str | None = None
    token: str | None = None
    reload_interval: float = 1.0
    today: str | None = None  # YYYY-MM-DD for date-dependent notes (RE510); None: the real day

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServeConfig:
        """The config the parent `ruleengine serve` process put in the environment; uvicorn's
        worker processes build their app from it."""
        text = os.environ.get(ENVIRONMENT_VARIABLE)
        if text is None:
            raise RuntimeError(f"{ENVIRONMENT_VARIABLE} is not set; start with `ruleengine serve`")
        return cls(**json.loads(text))
