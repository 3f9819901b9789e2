"""Server-rendered preview pages (placeholder)."""

from __future__ import annotations

from fastapi import APIRouter

from ruleengine.limits import Limits
from ruleengine.service.config import ServeConfig
from ruleengine.service.registry import Registry


def build_pages(registry: Registry, config: ServeConfig, limits: Limits) -> APIRouter:
    return APIRouter(include_in_schema=False)
