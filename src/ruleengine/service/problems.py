"""Errors as `application/problem+json` (RFC 9457), with the project's codes and JSON paths.

Every problem has `type`, `title`, `status` and `detail`, plus `code`: the RE code where the
library has one (RE611 invalid JSON, RE614 too large, the RE6xx code of the first snapshot
problem, RE108 for a rule text over the file limit), else a short slug of the service's own
(`unknown-program`, `invalid-request`, `unauthorized`, ...). Snapshot problems also list every
problem as the CLI reports it: `{code, path, message, hint}`, `path` a JSON path like
`$.activity[0].at`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

PROBLEM_TYPE_BASE = "https://ruleengine.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """A request the service refuses, carried to the handler that writes the response."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        code: str | None = None,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.code = code if code is not None else slug
        self.problems = problems
        self.headers = headers or {}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.problems is not None:
            data["problems"] = self.problems
        return data

    def body(self) -> bytes:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False).encode() + b"\n"


def problem_response(problem: ProblemError) -> Response:
    return Response(
        problem.body(),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457) with the project's code.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "path", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "hint": {"type": ["string", "null"]},
                },
            },
        },
    },
}
