"""The ruleset hash is SHA-256 of the canonical content, whichever implementation computes it
(`rules.ruleset` takes CPython's own `_sha256` where it exists, to avoid loading OpenSSL at
start-up, and `hashlib`'s otherwise)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules import ruleset
from test_cli import VALID as RULES


@given(st.binary(max_size=4096))
def test_the_digest_is_sha256(data: bytes) -> None:
    assert ruleset.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_ruleset_hash_stays_what_it_was() -> None:
    """Pinned: a change of digest implementation must not change a ruleset's identity."""
    checked = ruleset.check_source(SourceFile("shop.yaml", RULES)).ruleset
    assert checked is not None
    assert checked.hash == PINNED


PINNED = "sha256:bc61d42c6060bb260f358ee849c8ed12181bb4d8a75aa1dfd98ba21db2e32ccb"
