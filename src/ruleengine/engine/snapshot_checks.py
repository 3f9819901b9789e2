"""Checks only a whole snapshot's activity shows: impossible refunds and coupons, blank ids.

Run on the activity objects, after reading, so the fast reader and the models' path report
the same problems by construction. Each is a located problem (`$.activity[3].revoked_at`)
naming the activity, and the snapshot is refused: points decided from impossible data could
not be trusted. `engine.snapshot` calls them; `SnapshotProblem` is its problem type.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ruleengine.engine.activity import Activity, Order, Redemption
from ruleengine.engine.snapshot_json import SnapshotProblem
from ruleengine.expr.coerce import format_path


def impossible_refunds(activity: Sequence[Activity]) -> Iterator[SnapshotProblem]:
    """RE615 for a refund dated before its order, RE616 for more refunded than the order's
    amount."""
    for index, entry in enumerate(activity):
        if type(entry) is not Order:
            continue
        refunded_at = entry.refunded_at
        if refunded_at is not None and refunded_at < entry.at:
            yield SnapshotProblem(
                "RE615",
                format_path(("activity", index, "refunded_at")),
                f"order `{entry.id}` is refunded at {refunded_at.isoformat()}, before it was "
                f"placed at {entry.at.isoformat()}",
                "a refund comes after its order: check both timestamps and their offsets",
            )
        refunded = entry.refunded_amount
        if refunded is not None and refunded > entry.subtotal:
            # Refunds may include shipping and taxes: up to the order's `total` is possible.
            total = entry.record.get("total")
            amount = total if total is not None and total > entry.subtotal else entry.subtotal
            if refunded > amount:
                yield SnapshotProblem(
                    "RE616",
                    format_path(("activity", index, "refunded_amount")),
                    f"order `{entry.id}` has {refunded} refunded, more than its amount of {amount}",
                    "`refunded_amount` is the total refunded so far, at most the order's "
                    "`subtotal` (or its `total`, when that is larger)",
                )


def impossible_coupons(activity: Sequence[Activity]) -> Iterator[SnapshotProblem]:
    """RE640 for a coupon used or revoked before its redemption, or both used and revoked
    (only an unused coupon can be revoked, and a revoked one cannot be used); RE641 for a
    coupon code that an earlier redemption already gave: earlier in time, then by id, as
    the engine replays them (the array's order is no order), after every RE640. Codes are
    compared without case, as checkouts compare discount codes (`MAPLE-5` is `maple-5`)."""
    by_coupon: dict[str, list[tuple[int, Redemption]]] = {}
    for index, entry in enumerate(activity):
        if type(entry) is not Redemption:
            continue
        yield from _coupon_moments(index, entry)
        by_coupon.setdefault(entry.coupon.casefold(), []).append((index, entry))
    again: list[tuple[int, Redemption, int, Redemption]] = []
    for given in by_coupon.values():
        if len(given) > 1:
            given.sort(key=lambda found: (found[1].at, found[1].id))
            first_index, first = given[0]
            again.extend((index, entry, first_index, first) for index, entry in given[1:])
    for index, entry, first_index, first in sorted(again, key=lambda found: found[0]):
        written = "" if first.coupon == entry.coupon else f" (as `{first.coupon}`)"
        yield SnapshotProblem(
            "RE641",
            format_path(("activity", index, "coupon")),
            f"redemption `{entry.id}` gives coupon `{entry.coupon}`, which redemption "
            f"`{first.id}` already gave{written}",
            f"each redemption creates its own coupon code (the first is at "
            f"{format_path(('activity', first_index))}): send each redemption once, with "
            "its own code",
        )


def _coupon_moments(index: int, entry: Redemption) -> Iterator[SnapshotProblem]:
    what = f"coupon `{entry.coupon}` of redemption `{entry.id}`"
    redeemed = f"before it was redeemed at {entry.at.isoformat()}"
    hint = "a coupon is used or revoked after its redemption: check the timestamps and offsets"
    used, revoked = entry.used_at, entry.revoked_at
    for field, verb, moment in (("revoked_at", "revoked", revoked), ("used_at", "used", used)):
        if moment is not None and moment < entry.at:
            yield SnapshotProblem(
                "RE640",
                format_path(("activity", index, field)),
                f"{what} is {verb} at {moment.isoformat()}, {redeemed}",
                hint,
            )
    if used is not None and revoked is not None:
        if used <= revoked:
            field, message = (
                "revoked_at",
                (
                    f"{what} is revoked at {revoked.isoformat()}, after it was used at "
                    f"{used.isoformat()}: only an unused coupon can be revoked"
                ),
            )
        else:
            field, message = (
                "used_at",
                (
                    f"{what} is used at {used.isoformat()}, after it was revoked at "
                    f"{revoked.isoformat()}: a revoked coupon cannot be used"
                ),
            )
        yield SnapshotProblem(
            "RE640",
            format_path(("activity", index, field)),
            message,
            "send `used_at` for a coupon that was used, `revoked_at` for one revoked unused",
        )
