"""The expression grammar's LALR(1) tables, generated from grammar/expr.lark.

Do not edit: regenerate with

    python -m ruleengine.expr.grammar > src/ruleengine/expr/parse_tables.py

tests/unit/expr/test_parse_tables.py fails when this file and the grammar disagree.
"""

# fmt: off

# The lexer's terminals in lark's order of priority (the first that matches wins).
TERMINALS: tuple[tuple[str, str], ...] = (
    ("DURATION", "[0-9]+(?:mo|min|y|w|d|h|s)(?![A-Za-z0-9_])"),
    ("STRING", "(?:\"(?:[^\"\\\\\n]|\\\\[^\n])*\"|'(?:[^'\\\\\n]|\\\\[^\n])*')"),
    ("NAME", "[A-Za-z_][A-Za-z0-9_]*"),
    ("NUMBER", "[0-9]+(?:\\.[0-9]+)?"),
    ("WS", "[ \t\r\n]+"),
    ("EQ", "=="),
    ("GE", ">="),
    ("LE", "<="),
    ("NE", "!="),
    ("GT", ">"),
    ("LT", "<"),
    ("MINUS", "\\-"),
    ("PERCENT", "%"),
    ("PLUS", "\\+"),
    ("SLASH", "/"),
    ("STAR", "\\*"),
    ("_COMMA", ","),
    ("_DOT", "\\."),
    ("_LPAR", "\\("),
    ("_LSQB", "\\["),
    ("_RPAR", "\\)"),
    ("_RSQB", "\\]"),
)
# A NAME token that is exactly one of these is that keyword.
KEYWORDS: dict[str, str] = {
    "and": "AND",
    "else": "_ELSE",
    "false": "FALSE",
    "if": "_IF",
    "in": "IN",
    "not": "NOT",
    "null": "NULL",
    "or": "OR",
    "then": "_THEN",
    "true": "TRUE",
}
IGNORED: frozenset[str] = frozenset({"WS"})
START_STATE = 0
END_STATE = 21
# Per rule: (nonterminal, symbols, alias or '' , kept positions, spliced positions).
# Tokens named `_...` are dropped, rules named `_...` spliced into their parent, and a
# `?` rule without alias that keeps one child passes it through (alias '').
RULES: tuple[tuple[str, int, str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("start", 1, "", (0,), ()),
    ("expr", 1, "", (0,), ()),
    ("expr", 6, "conditional", (1, 3, 5), ()),
    ("or_expr", 1, "", (0,), ()),
    ("or_expr", 3, "binary_op", (0, 1, 2), ()),
    ("and_expr", 1, "", (0,), ()),
    ("and_expr", 3, "binary_op", (0, 1, 2), ()),
    ("not_expr", 1, "", (0,), ()),
    ("not_expr", 2, "not_op", (0, 1), ()),
    ("comparison", 1, "", (0,), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 3, "binary_op", (0, 1, 2), ()),
    ("comparison", 4, "binary_op", (0, 1, 2, 3), ()),
    ("sum", 1, "", (0,), ()),
    ("sum", 3, "binary_op", (0, 1, 2), ()),
    ("sum", 3, "binary_op", (0, 1, 2), ()),
    ("product", 1, "", (0,), ()),
    ("product", 3, "binary_op", (0, 1, 2), ()),
    ("product", 3, "binary_op", (0, 1, 2), ()),
    ("product", 3, "binary_op", (0, 1, 2), ()),
    ("unary", 1, "", (0,), ()),
    ("unary", 2, "neg", (0, 1), ()),
    ("postfix", 1, "", (0,), ()),
    ("postfix", 3, "field_access", (0, 2), ()),
    ("postfix", 4, "index", (0, 2), ()),
    ("atom", 1, "number", (0,), ()),
    ("atom", 1, "string", (0,), ()),
    ("atom", 1, "duration", (0,), ()),
    ("atom", 1, "true", (0,), ()),
    ("atom", 1, "false", (0,), ()),
    ("atom", 1, "null", (0,), ()),
    ("atom", 1, "name", (0,), ()),
    ("atom", 4, "call", (0, 2), (2,)),
    ("atom", 3, "call", (0,), ()),
    ("atom", 3, "list_expr", (1,), (1,)),
    ("atom", 2, "list_expr", (), ()),
    ("atom", 3, "", (1,), ()),
    ("_items", 3, "_items", (0, 1), (1,)),
    ("_items", 2, "_items", (0, 1), (1,)),
    ("_items", 2, "_items", (0,), ()),
    ("_items", 1, "_items", (0,), ()),
    ("___items_star_0", 2, "_items", (1,), ()),
    ("___items_star_0", 3, "_items", (0, 2), (0,)),
)
# Per state: symbol -> the next state (shift, goto) if >= 0, or ~rule (reduce) if < 0.
STATES: tuple[dict[str, int], ...] = (
    # 0
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "and_expr": 13, "atom": 14,
     "comparison": 15, "expr": 16, "not_expr": 17, "or_expr": 18, "postfix": 19, "product": 20,
     "start": 21, "sum": 22, "unary": 23},
    # 1
    {"$END": -33, "AND": -33, "EQ": -33, "GE": -33, "GT": -33, "IN": -33, "LE": -33, "LT": -33,
     "MINUS": -33, "NE": -33, "NOT": -33, "OR": -33, "PERCENT": -33, "PLUS": -33, "SLASH": -33,
     "STAR": -33, "_COMMA": -33, "_DOT": -33, "_ELSE": -33, "_LSQB": -33, "_RPAR": -33,
     "_RSQB": -33, "_THEN": -33},
    # 2
    {"$END": -35, "AND": -35, "EQ": -35, "GE": -35, "GT": -35, "IN": -35, "LE": -35, "LT": -35,
     "MINUS": -35, "NE": -35, "NOT": -35, "OR": -35, "PERCENT": -35, "PLUS": -35, "SLASH": -35,
     "STAR": -35, "_COMMA": -35, "_DOT": -35, "_ELSE": -35, "_LSQB": -35, "_RPAR": -35,
     "_RSQB": -35, "_THEN": -35},
    # 3
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "unary": 24},
    # 4
    {"$END": -37, "AND": -37, "EQ": -37, "GE": -37, "GT": -37, "IN": -37, "LE": -37, "LT": -37,
     "MINUS": -37, "NE": -37, "NOT": -37, "OR": -37, "PERCENT": -37, "PLUS": -37, "SLASH": -37,
     "STAR": -37, "_COMMA": -37, "_DOT": -37, "_ELSE": -37, "_LPAR": 25, "_LSQB": -37,
     "_RPAR": -37, "_RSQB": -37, "_THEN": -37},
    # 5
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "comparison": 15,
     "not_expr": 26, "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 6
    {"$END": -36, "AND": -36, "EQ": -36, "GE": -36, "GT": -36, "IN": -36, "LE": -36, "LT": -36,
     "MINUS": -36, "NE": -36, "NOT": -36, "OR": -36, "PERCENT": -36, "PLUS": -36, "SLASH": -36,
     "STAR": -36, "_COMMA": -36, "_DOT": -36, "_ELSE": -36, "_LSQB": -36, "_RPAR": -36,
     "_RSQB": -36, "_THEN": -36},
    # 7
    {"$END": -31, "AND": -31, "EQ": -31, "GE": -31, "GT": -31, "IN": -31, "LE": -31, "LT": -31,
     "MINUS": -31, "NE": -31, "NOT": -31, "OR": -31, "PERCENT": -31, "PLUS": -31, "SLASH": -31,
     "STAR": -31, "_COMMA": -31, "_DOT": -31, "_ELSE": -31, "_LSQB": -31, "_RPAR": -31,
     "_RSQB": -31, "_THEN": -31},
    # 8
    {"$END": -32, "AND": -32, "EQ": -32, "GE": -32, "GT": -32, "IN": -32, "LE": -32, "LT": -32,
     "MINUS": -32, "NE": -32, "NOT": -32, "OR": -32, "PERCENT": -32, "PLUS": -32, "SLASH": -32,
     "STAR": -32, "_COMMA": -32, "_DOT": -32, "_ELSE": -32, "_LSQB": -32, "_RPAR": -32,
     "_RSQB": -32, "_THEN": -32},
    # 9
    {"$END": -34, "AND": -34, "EQ": -34, "GE": -34, "GT": -34, "IN": -34, "LE": -34, "LT": -34,
     "MINUS": -34, "NE": -34, "NOT": -34, "OR": -34, "PERCENT": -34, "PLUS": -34, "SLASH": -34,
     "STAR": -34, "_COMMA": -34, "_DOT": -34, "_ELSE": -34, "_LSQB": -34, "_RPAR": -34,
     "_RSQB": -34, "_THEN": -34},
    # 10
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "and_expr": 13, "atom": 14,
     "comparison": 15, "expr": 27, "not_expr": 17, "or_expr": 18, "postfix": 19, "product": 20,
     "sum": 22, "unary": 23},
    # 11
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "and_expr": 13, "atom": 14,
     "comparison": 15, "expr": 28, "not_expr": 17, "or_expr": 18, "postfix": 19, "product": 20,
     "sum": 22, "unary": 23},
    # 12
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "_RSQB": 29, "_items": 30,
     "and_expr": 13, "atom": 14, "comparison": 15, "expr": 31, "not_expr": 17, "or_expr": 18,
     "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 13
    {"$END": -4, "AND": 32, "OR": -4, "_COMMA": -4, "_ELSE": -4, "_RPAR": -4, "_RSQB": -4,
     "_THEN": -4},
    # 14
    {"$END": -28, "AND": -28, "EQ": -28, "GE": -28, "GT": -28, "IN": -28, "LE": -28, "LT": -28,
     "MINUS": -28, "NE": -28, "NOT": -28, "OR": -28, "PERCENT": -28, "PLUS": -28, "SLASH": -28,
     "STAR": -28, "_COMMA": -28, "_DOT": -28, "_ELSE": -28, "_LSQB": -28, "_RPAR": -28,
     "_RSQB": -28, "_THEN": -28},
    # 15
    {"$END": -8, "AND": -8, "OR": -8, "_COMMA": -8, "_ELSE": -8, "_RPAR": -8, "_RSQB": -8,
     "_THEN": -8},
    # 16
    {"$END": -1},
    # 17
    {"$END": -6, "AND": -6, "OR": -6, "_COMMA": -6, "_ELSE": -6, "_RPAR": -6, "_RSQB": -6,
     "_THEN": -6},
    # 18
    {"$END": -2, "OR": 33, "_COMMA": -2, "_ELSE": -2, "_RPAR": -2, "_RSQB": -2, "_THEN": -2},
    # 19
    {"$END": -26, "AND": -26, "EQ": -26, "GE": -26, "GT": -26, "IN": -26, "LE": -26, "LT": -26,
     "MINUS": -26, "NE": -26, "NOT": -26, "OR": -26, "PERCENT": -26, "PLUS": -26, "SLASH": -26,
     "STAR": -26, "_COMMA": -26, "_DOT": 34, "_ELSE": -26, "_LSQB": 35, "_RPAR": -26,
     "_RSQB": -26, "_THEN": -26},
    # 20
    {"$END": -19, "AND": -19, "EQ": -19, "GE": -19, "GT": -19, "IN": -19, "LE": -19, "LT": -19,
     "MINUS": -19, "NE": -19, "NOT": -19, "OR": -19, "PERCENT": 36, "PLUS": -19, "SLASH": 37,
     "STAR": 38, "_COMMA": -19, "_ELSE": -19, "_RPAR": -19, "_RSQB": -19, "_THEN": -19},
    # 21
    {},
    # 22
    {"$END": -10, "AND": -10, "EQ": 39, "GE": 40, "GT": 41, "IN": 42, "LE": 43, "LT": 44,
     "MINUS": 45, "NE": 46, "NOT": 47, "OR": -10, "PLUS": 48, "_COMMA": -10, "_ELSE": -10,
     "_RPAR": -10, "_RSQB": -10, "_THEN": -10},
    # 23
    {"$END": -22, "AND": -22, "EQ": -22, "GE": -22, "GT": -22, "IN": -22, "LE": -22, "LT": -22,
     "MINUS": -22, "NE": -22, "NOT": -22, "OR": -22, "PERCENT": -22, "PLUS": -22, "SLASH": -22,
     "STAR": -22, "_COMMA": -22, "_ELSE": -22, "_RPAR": -22, "_RSQB": -22, "_THEN": -22},
    # 24
    {"$END": -27, "AND": -27, "EQ": -27, "GE": -27, "GT": -27, "IN": -27, "LE": -27, "LT": -27,
     "MINUS": -27, "NE": -27, "NOT": -27, "OR": -27, "PERCENT": -27, "PLUS": -27, "SLASH": -27,
     "STAR": -27, "_COMMA": -27, "_ELSE": -27, "_RPAR": -27, "_RSQB": -27, "_THEN": -27},
    # 25
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "_RPAR": 49, "_items": 50,
     "and_expr": 13, "atom": 14, "comparison": 15, "expr": 31, "not_expr": 17, "or_expr": 18,
     "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 26
    {"$END": -9, "AND": -9, "OR": -9, "_COMMA": -9, "_ELSE": -9, "_RPAR": -9, "_RSQB": -9,
     "_THEN": -9},
    # 27
    {"_THEN": 51},
    # 28
    {"_RPAR": 52},
    # 29
    {"$END": -41, "AND": -41, "EQ": -41, "GE": -41, "GT": -41, "IN": -41, "LE": -41, "LT": -41,
     "MINUS": -41, "NE": -41, "NOT": -41, "OR": -41, "PERCENT": -41, "PLUS": -41, "SLASH": -41,
     "STAR": -41, "_COMMA": -41, "_DOT": -41, "_ELSE": -41, "_LSQB": -41, "_RPAR": -41,
     "_RSQB": -41, "_THEN": -41},
    # 30
    {"_RSQB": 53},
    # 31
    {"_COMMA": 54, "_RPAR": -46, "_RSQB": -46, "___items_star_0": 55},
    # 32
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "comparison": 15,
     "not_expr": 56, "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 33
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "and_expr": 57, "atom": 14,
     "comparison": 15, "not_expr": 17, "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 34
    {"NAME": 58},
    # 35
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "and_expr": 13, "atom": 14,
     "comparison": 15, "expr": 59, "not_expr": 17, "or_expr": 18, "postfix": 19, "product": 20,
     "sum": 22, "unary": 23},
    # 36
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "unary": 60},
    # 37
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "unary": 61},
    # 38
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "unary": 62},
    # 39
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 63,
     "unary": 23},
    # 40
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 64,
     "unary": 23},
    # 41
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 65,
     "unary": 23},
    # 42
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 66,
     "unary": 23},
    # 43
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 67,
     "unary": 23},
    # 44
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 68,
     "unary": 23},
    # 45
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 69,
     "unary": 23},
    # 46
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 70,
     "unary": 23},
    # 47
    {"IN": 71},
    # 48
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 72,
     "unary": 23},
    # 49
    {"$END": -39, "AND": -39, "EQ": -39, "GE": -39, "GT": -39, "IN": -39, "LE": -39, "LT": -39,
     "MINUS": -39, "NE": -39, "NOT": -39, "OR": -39, "PERCENT": -39, "PLUS": -39, "SLASH": -39,
     "STAR": -39, "_COMMA": -39, "_DOT": -39, "_ELSE": -39, "_LSQB": -39, "_RPAR": -39,
     "_RSQB": -39, "_THEN": -39},
    # 50
    {"_RPAR": 73},
    # 51
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "and_expr": 13, "atom": 14,
     "comparison": 15, "expr": 74, "not_expr": 17, "or_expr": 18, "postfix": 19, "product": 20,
     "sum": 22, "unary": 23},
    # 52
    {"$END": -42, "AND": -42, "EQ": -42, "GE": -42, "GT": -42, "IN": -42, "LE": -42, "LT": -42,
     "MINUS": -42, "NE": -42, "NOT": -42, "OR": -42, "PERCENT": -42, "PLUS": -42, "SLASH": -42,
     "STAR": -42, "_COMMA": -42, "_DOT": -42, "_ELSE": -42, "_LSQB": -42, "_RPAR": -42,
     "_RSQB": -42, "_THEN": -42},
    # 53
    {"$END": -40, "AND": -40, "EQ": -40, "GE": -40, "GT": -40, "IN": -40, "LE": -40, "LT": -40,
     "MINUS": -40, "NE": -40, "NOT": -40, "OR": -40, "PERCENT": -40, "PLUS": -40, "SLASH": -40,
     "STAR": -40, "_COMMA": -40, "_DOT": -40, "_ELSE": -40, "_LSQB": -40, "_RPAR": -40,
     "_RSQB": -40, "_THEN": -40},
    # 54
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "_RPAR": -45, "_RSQB": -45,
     "and_expr": 13, "atom": 14, "comparison": 15, "expr": 75, "not_expr": 17, "or_expr": 18,
     "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 55
    {"_COMMA": 76, "_RPAR": -44, "_RSQB": -44},
    # 56
    {"$END": -7, "AND": -7, "OR": -7, "_COMMA": -7, "_ELSE": -7, "_RPAR": -7, "_RSQB": -7,
     "_THEN": -7},
    # 57
    {"$END": -5, "AND": 32, "OR": -5, "_COMMA": -5, "_ELSE": -5, "_RPAR": -5, "_RSQB": -5,
     "_THEN": -5},
    # 58
    {"$END": -29, "AND": -29, "EQ": -29, "GE": -29, "GT": -29, "IN": -29, "LE": -29, "LT": -29,
     "MINUS": -29, "NE": -29, "NOT": -29, "OR": -29, "PERCENT": -29, "PLUS": -29, "SLASH": -29,
     "STAR": -29, "_COMMA": -29, "_DOT": -29, "_ELSE": -29, "_LSQB": -29, "_RPAR": -29,
     "_RSQB": -29, "_THEN": -29},
    # 59
    {"_RSQB": 77},
    # 60
    {"$END": -25, "AND": -25, "EQ": -25, "GE": -25, "GT": -25, "IN": -25, "LE": -25, "LT": -25,
     "MINUS": -25, "NE": -25, "NOT": -25, "OR": -25, "PERCENT": -25, "PLUS": -25, "SLASH": -25,
     "STAR": -25, "_COMMA": -25, "_ELSE": -25, "_RPAR": -25, "_RSQB": -25, "_THEN": -25},
    # 61
    {"$END": -24, "AND": -24, "EQ": -24, "GE": -24, "GT": -24, "IN": -24, "LE": -24, "LT": -24,
     "MINUS": -24, "NE": -24, "NOT": -24, "OR": -24, "PERCENT": -24, "PLUS": -24, "SLASH": -24,
     "STAR": -24, "_COMMA": -24, "_ELSE": -24, "_RPAR": -24, "_RSQB": -24, "_THEN": -24},
    # 62
    {"$END": -23, "AND": -23, "EQ": -23, "GE": -23, "GT": -23, "IN": -23, "LE": -23, "LT": -23,
     "MINUS": -23, "NE": -23, "NOT": -23, "OR": -23, "PERCENT": -23, "PLUS": -23, "SLASH": -23,
     "STAR": -23, "_COMMA": -23, "_ELSE": -23, "_RPAR": -23, "_RSQB": -23, "_THEN": -23},
    # 63
    {"$END": -11, "AND": -11, "MINUS": 45, "OR": -11, "PLUS": 48, "_COMMA": -11, "_ELSE": -11,
     "_RPAR": -11, "_RSQB": -11, "_THEN": -11},
    # 64
    {"$END": -16, "AND": -16, "MINUS": 45, "OR": -16, "PLUS": 48, "_COMMA": -16, "_ELSE": -16,
     "_RPAR": -16, "_RSQB": -16, "_THEN": -16},
    # 65
    {"$END": -15, "AND": -15, "MINUS": 45, "OR": -15, "PLUS": 48, "_COMMA": -15, "_ELSE": -15,
     "_RPAR": -15, "_RSQB": -15, "_THEN": -15},
    # 66
    {"$END": -17, "AND": -17, "MINUS": 45, "OR": -17, "PLUS": 48, "_COMMA": -17, "_ELSE": -17,
     "_RPAR": -17, "_RSQB": -17, "_THEN": -17},
    # 67
    {"$END": -14, "AND": -14, "MINUS": 45, "OR": -14, "PLUS": 48, "_COMMA": -14, "_ELSE": -14,
     "_RPAR": -14, "_RSQB": -14, "_THEN": -14},
    # 68
    {"$END": -13, "AND": -13, "MINUS": 45, "OR": -13, "PLUS": 48, "_COMMA": -13, "_ELSE": -13,
     "_RPAR": -13, "_RSQB": -13, "_THEN": -13},
    # 69
    {"$END": -21, "AND": -21, "EQ": -21, "GE": -21, "GT": -21, "IN": -21, "LE": -21, "LT": -21,
     "MINUS": -21, "NE": -21, "NOT": -21, "OR": -21, "PERCENT": 36, "PLUS": -21, "SLASH": 37,
     "STAR": 38, "_COMMA": -21, "_ELSE": -21, "_RPAR": -21, "_RSQB": -21, "_THEN": -21},
    # 70
    {"$END": -12, "AND": -12, "MINUS": 45, "OR": -12, "PLUS": 48, "_COMMA": -12, "_ELSE": -12,
     "_RPAR": -12, "_RSQB": -12, "_THEN": -12},
    # 71
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NULL": 6, "NUMBER": 7, "STRING": 8,
     "TRUE": 9, "_LPAR": 11, "_LSQB": 12, "atom": 14, "postfix": 19, "product": 20, "sum": 78,
     "unary": 23},
    # 72
    {"$END": -20, "AND": -20, "EQ": -20, "GE": -20, "GT": -20, "IN": -20, "LE": -20, "LT": -20,
     "MINUS": -20, "NE": -20, "NOT": -20, "OR": -20, "PERCENT": 36, "PLUS": -20, "SLASH": 37,
     "STAR": 38, "_COMMA": -20, "_ELSE": -20, "_RPAR": -20, "_RSQB": -20, "_THEN": -20},
    # 73
    {"$END": -38, "AND": -38, "EQ": -38, "GE": -38, "GT": -38, "IN": -38, "LE": -38, "LT": -38,
     "MINUS": -38, "NE": -38, "NOT": -38, "OR": -38, "PERCENT": -38, "PLUS": -38, "SLASH": -38,
     "STAR": -38, "_COMMA": -38, "_DOT": -38, "_ELSE": -38, "_LSQB": -38, "_RPAR": -38,
     "_RSQB": -38, "_THEN": -38},
    # 74
    {"_ELSE": 79},
    # 75
    {"_COMMA": -47, "_RPAR": -47, "_RSQB": -47},
    # 76
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "_RPAR": -43, "_RSQB": -43,
     "and_expr": 13, "atom": 14, "comparison": 15, "expr": 80, "not_expr": 17, "or_expr": 18,
     "postfix": 19, "product": 20, "sum": 22, "unary": 23},
    # 77
    {"$END": -30, "AND": -30, "EQ": -30, "GE": -30, "GT": -30, "IN": -30, "LE": -30, "LT": -30,
     "MINUS": -30, "NE": -30, "NOT": -30, "OR": -30, "PERCENT": -30, "PLUS": -30, "SLASH": -30,
     "STAR": -30, "_COMMA": -30, "_DOT": -30, "_ELSE": -30, "_LSQB": -30, "_RPAR": -30,
     "_RSQB": -30, "_THEN": -30},
    # 78
    {"$END": -18, "AND": -18, "MINUS": 45, "OR": -18, "PLUS": 48, "_COMMA": -18, "_ELSE": -18,
     "_RPAR": -18, "_RSQB": -18, "_THEN": -18},
    # 79
    {"DURATION": 1, "FALSE": 2, "MINUS": 3, "NAME": 4, "NOT": 5, "NULL": 6, "NUMBER": 7,
     "STRING": 8, "TRUE": 9, "_IF": 10, "_LPAR": 11, "_LSQB": 12, "and_expr": 13, "atom": 14,
     "comparison": 15, "expr": 81, "not_expr": 17, "or_expr": 18, "postfix": 19, "product": 20,
     "sum": 22, "unary": 23},
    # 80
    {"_COMMA": -48, "_RPAR": -48, "_RSQB": -48},
    # 81
    {"$END": -3, "_COMMA": -3, "_ELSE": -3, "_RPAR": -3, "_RSQB": -3, "_THEN": -3},
)

# fmt: on
