"""A 50-rule set: the conditions of fifty earning rules on `order`, as rule text and as the
Python a developer would write for each (one function per rule), for the rule-set benchmark.

Generated once from templates by a seeded generator (the shapes of real loyalty conditions:
thresholds, channels, tags, tiers, first orders, combinations) and kept as source, so the
hand-written side really is hand-written Python, not closures.
"""

from __future__ import annotations

from typing import Any

CONDITIONS = [
    "order.subtotal >= 137",
    'order.channel == "phone"',
    "stats.orders_count >= 9",
    '"wholesale" in customer.tags',
    'order.subtotal > 27 and order.channel in ["online", "pos"]',
    "order.subtotal >= 26",
    'customer.tier == "silver" or stats.amount_spent > 680',
    'not ("wholesale" in customer.tags) and order.subtotal > 61',
    'stats.orders_count == 4 and order.channel != "phone"',
    'customer.region == "EU" and order.subtotal >= 184',
    "order.subtotal >= 142",
    'order.channel == "pos"',
    "stats.orders_count >= 3",
    '"wholesale" in customer.tags',
    'order.subtotal > 195 and order.channel in ["online", "pos"]',
    "order.subtotal >= 72",
    'customer.tier == "silver" or stats.amount_spent > 1750',
    'not ("vip" in customer.tags) and order.subtotal > 129',
    'stats.orders_count == 2 and order.channel != "pos"',
    'customer.region == "EU" and order.subtotal >= 27',
    "order.subtotal >= 91",
    'order.channel == "pos"',
    "stats.orders_count >= 2",
    '"newsletter" in customer.tags',
    'order.subtotal > 14 and order.channel in ["online", "pos"]',
    "order.subtotal >= 158",
    'customer.tier == "silver" or stats.amount_spent > 1360',
    'not ("newsletter" in customer.tags) and order.subtotal > 67',
    'stats.orders_count == 6 and order.channel != "online"',
    'customer.region == "EU" and order.subtotal >= 82',
    "order.subtotal >= 192",
    'order.channel == "online"',
    "stats.orders_count >= 8",
    '"wholesale" in customer.tags',
    'order.subtotal > 73 and order.channel in ["online", "pos"]',
    "order.subtotal >= 57",
    'customer.tier == "gold" or stats.amount_spent > 100',
    'not ("staff" in customer.tags) and order.subtotal > 180',
    'stats.orders_count == 1 and order.channel != "phone"',
    'customer.region == "EU" and order.subtotal >= 40',
    "order.subtotal >= 17",
    'order.channel == "phone"',
    "stats.orders_count >= 6",
    '"vip" in customer.tags',
    'order.subtotal > 75 and order.channel in ["online", "pos"]',
    "order.subtotal >= 109",
    'customer.tier == "silver" or stats.amount_spent > 1130',
    'not ("staff" in customer.tags) and order.subtotal > 162',
    'stats.orders_count == 4 and order.channel != "pos"',
    'customer.region == "EU" and order.subtotal >= 72',
]


def rule_00(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 137


def rule_01(v: dict[str, Any]) -> Any:
    return v["order"]["channel"] == "phone"


def rule_02(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] >= 9


def rule_03(v: dict[str, Any]) -> Any:
    return "wholesale" in v["customer"]["tags"]


def rule_04(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] > 27 and v["order"]["channel"] in ("online", "pos")


def rule_05(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 26


def rule_06(v: dict[str, Any]) -> Any:
    return v["customer"]["tier"] == "silver" or v["stats"]["amount_spent"] > 680


def rule_07(v: dict[str, Any]) -> Any:
    return "wholesale" not in v["customer"]["tags"] and v["order"]["subtotal"] > 61


def rule_08(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] == 4 and v["order"]["channel"] != "phone"


def rule_09(v: dict[str, Any]) -> Any:
    return v["customer"]["region"] == "EU" and v["order"]["subtotal"] >= 184


def rule_10(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 142


def rule_11(v: dict[str, Any]) -> Any:
    return v["order"]["channel"] == "pos"


def rule_12(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] >= 3


def rule_13(v: dict[str, Any]) -> Any:
    return "wholesale" in v["customer"]["tags"]


def rule_14(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] > 195 and v["order"]["channel"] in ("online", "pos")


def rule_15(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 72


def rule_16(v: dict[str, Any]) -> Any:
    return v["customer"]["tier"] == "silver" or v["stats"]["amount_spent"] > 1750


def rule_17(v: dict[str, Any]) -> Any:
    return "vip" not in v["customer"]["tags"] and v["order"]["subtotal"] > 129


def rule_18(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] == 2 and v["order"]["channel"] != "pos"


def rule_19(v: dict[str, Any]) -> Any:
    return v["customer"]["region"] == "EU" and v["order"]["subtotal"] >= 27


def rule_20(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 91


def rule_21(v: dict[str, Any]) -> Any:
    return v["order"]["channel"] == "pos"


def rule_22(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] >= 2


def rule_23(v: dict[str, Any]) -> Any:
    return "newsletter" in v["customer"]["tags"]


def rule_24(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] > 14 and v["order"]["channel"] in ("online", "pos")


def rule_25(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 158


def rule_26(v: dict[str, Any]) -> Any:
    return v["customer"]["tier"] == "silver" or v["stats"]["amount_spent"] > 1360


def rule_27(v: dict[str, Any]) -> Any:
    return "newsletter" not in v["customer"]["tags"] and v["order"]["subtotal"] > 67


def rule_28(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] == 6 and v["order"]["channel"] != "online"


def rule_29(v: dict[str, Any]) -> Any:
    return v["customer"]["region"] == "EU" and v["order"]["subtotal"] >= 82


def rule_30(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 192


def rule_31(v: dict[str, Any]) -> Any:
    return v["order"]["channel"] == "online"


def rule_32(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] >= 8


def rule_33(v: dict[str, Any]) -> Any:
    return "wholesale" in v["customer"]["tags"]


def rule_34(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] > 73 and v["order"]["channel"] in ("online", "pos")


def rule_35(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 57


def rule_36(v: dict[str, Any]) -> Any:
    return v["customer"]["tier"] == "gold" or v["stats"]["amount_spent"] > 100


def rule_37(v: dict[str, Any]) -> Any:
    return "staff" not in v["customer"]["tags"] and v["order"]["subtotal"] > 180


def rule_38(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] == 1 and v["order"]["channel"] != "phone"


def rule_39(v: dict[str, Any]) -> Any:
    return v["customer"]["region"] == "EU" and v["order"]["subtotal"] >= 40


def rule_40(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 17


def rule_41(v: dict[str, Any]) -> Any:
    return v["order"]["channel"] == "phone"


def rule_42(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] >= 6


def rule_43(v: dict[str, Any]) -> Any:
    return "vip" in v["customer"]["tags"]


def rule_44(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] > 75 and v["order"]["channel"] in ("online", "pos")


def rule_45(v: dict[str, Any]) -> Any:
    return v["order"]["subtotal"] >= 109


def rule_46(v: dict[str, Any]) -> Any:
    return v["customer"]["tier"] == "silver" or v["stats"]["amount_spent"] > 1130


def rule_47(v: dict[str, Any]) -> Any:
    return "staff" not in v["customer"]["tags"] and v["order"]["subtotal"] > 162


def rule_48(v: dict[str, Any]) -> Any:
    return v["stats"]["orders_count"] == 4 and v["order"]["channel"] != "pos"


def rule_49(v: dict[str, Any]) -> Any:
    return v["customer"]["region"] == "EU" and v["order"]["subtotal"] >= 72


HANDWRITTEN = [
    rule_00,
    rule_01,
    rule_02,
    rule_03,
    rule_04,
    rule_05,
    rule_06,
    rule_07,
    rule_08,
    rule_09,
    rule_10,
    rule_11,
    rule_12,
    rule_13,
    rule_14,
    rule_15,
    rule_16,
    rule_17,
    rule_18,
    rule_19,
    rule_20,
    rule_21,
    rule_22,
    rule_23,
    rule_24,
    rule_25,
    rule_26,
    rule_27,
    rule_28,
    rule_29,
    rule_30,
    rule_31,
    rule_32,
    rule_33,
    rule_34,
    rule_35,
    rule_36,
    rule_37,
    rule_38,
    rule_39,
    rule_40,
    rule_41,
    rule_42,
    rule_43,
    rule_44,
    rule_45,
    rule_46,
    rule_47,
    rule_48,
    rule_49,
]
