"""A small SOQL engine for the Salesforce simulator: SELECT fields, aggregates and date functions, FROM,
WHERE (AND/OR/NOT, comparisons, IN, LIKE, a few date literals), GROUP BY, ORDER BY, LIMIT and OFFSET.

Anything else raises :class:`SoqlError`, which the simulator answers as ``MALFORMED_QUERY``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

AGGREGATES = frozenset({"COUNT", "SUM", "AVG", "MIN", "MAX", "COUNT_DISTINCT"})
DATE_FUNCS = frozenset({"CALENDAR_YEAR", "CALENDAR_MONTH", "CALENDAR_QUARTER", "DAY_ONLY"})
KEYWORDS = frozenset({"SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR",
                      "NOT", "IN", "LIKE", "ASC", "DESC", "NULLS", "FIRST", "LAST"})
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*')
    |(?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))?)
    |(?P<num>-?\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<word>[A-Za-z_][\w.]*(?::\d+)?))""", re.X)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class SoqlError(ValueError):
    """A query the simulator cannot parse or run (Salesforce's MALFORMED_QUERY)."""


@dataclass(frozen=True)
class Expr:
    """A field, or a function of a field (``COUNT(Id)``, ``CALENDAR_MONTH(CloseDate)``)."""

    field: str | None
    func: str | None = None

    @property
    def aggregate(self) -> bool:
        """Whether this is an aggregate function."""
        return self.func in AGGREGATES

    def value(self, row: dict[str, Any]) -> Any:
        """The value of a non-aggregate expression on one row."""
        raw = row.get(self.field) if self.field else None
        if self.func is None or raw is None:
            return raw
        day = date.fromisoformat(str(raw)[:10])
        return {"CALENDAR_YEAR": day.year, "CALENDAR_MONTH": day.month,
                "CALENDAR_QUARTER": (day.month - 1) // 3 + 1, "DAY_ONLY": day.isoformat()}[self.func]


@dataclass
class Query:
    """A parsed SELECT statement."""

    items: list[tuple[Expr, str]]
    sobject: str
    where: Callable[[dict[str, Any]], bool] = lambda _row: True
    group_by: list[Expr] = field(default_factory=list)
    order_by: list[tuple[Expr, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0

    @property
    def count_only(self) -> bool:
        """``SELECT COUNT() FROM ...``: only totalSize is answered."""
        return len(self.items) == 1 and self.items[0][0] == Expr(None, "COUNT")

    @property
    def aggregate(self) -> bool:
        """Whether the result rows are AggregateResult rows."""
        return bool(self.group_by) or any(e.aggregate for e, _ in self.items) and not self.count_only


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise SoqlError(f"unexpected token at position {pos}: {text[pos:pos + 15]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.i = 0

    def peek(self, word: str | None = None) -> str | None:
        """The next token (only when it is ``word``, case-insensitively), without consuming it."""
        if self.i >= len(self.tokens):
            return None
        value = self.tokens[self.i][1]
        return value if word is None or value.upper() == word else None

    def take(self, word: str | None = None) -> str:
        """Consume the next token (which must be ``word`` when given)."""
        value = self.peek(word)
        if value is None:
            raise SoqlError(f"expecting {word or 'a token'}, found {self.peek() or 'end of query'}")
        self.i += 1
        return value

    def expr(self) -> Expr:
        """A field or ``FUNCTION(field)``."""
        name = self.take()
        if not self.peek("("):
            if name.upper() in KEYWORDS or not re.match(r"^[A-Za-z_]", name):
                raise SoqlError(f"unexpected token: {name}")
            return Expr(name)
        func = name.upper()
        if func not in AGGREGATES | DATE_FUNCS:
            raise SoqlError(f"unknown function {name}")
        self.take("(")
        arg = None if self.peek(")") else self.take()
        self.take(")")
        return Expr(arg, func)

    def select(self) -> list[tuple[Expr, str]]:
        """The SELECT list with each item's result key (its alias, field name or ``exprN``)."""
        items, unnamed = [], 0
        while True:
            expr = self.expr()
            alias = ""
            if (nxt := self.peek()) and nxt not in (",",) and nxt.upper() != "FROM":
                alias = self.take()
            if not alias:
                alias = str(expr.field) if expr.func is None else f"expr{unnamed}"
                unnamed += expr.func is not None
            items.append((expr, str(alias)))
            if not self.peek(","):
                return items
            self.take(",")


def parse(soql: str) -> Query:
    """Parse one SELECT statement."""
    p = _Parser(soql)
    p.take("SELECT")
    items = p.select()
    p.take("FROM")
    query = Query(items=items, sobject=p.take())
    if p.peek("WHERE"):
        p.take()
        query.where = _or(p)
    if p.peek("GROUP"):
        p.take(), p.take("BY")
        query.group_by = [p.expr()]
        while p.peek(","):
            p.take()
            query.group_by.append(p.expr())
    if p.peek("ORDER"):
        p.take(), p.take("BY")
        query.order_by = [_order_item(p)]
        while p.peek(","):
            p.take()
            query.order_by.append(_order_item(p))
    for word in ("LIMIT", "OFFSET"):
        if p.peek(word):
            p.take()
            setattr(query, word.lower(), int(p.take()))
    if p.peek() is not None:
        raise SoqlError(f"unexpected token: {p.peek()}")
    return query


def _order_item(p: _Parser) -> tuple[Expr, bool]:
    expr = p.expr()
    desc = bool(p.peek("DESC"))
    if p.peek("ASC") or p.peek("DESC"):
        p.take()
    if p.peek("NULLS"):
        p.take(), p.take()
    return expr, desc


def _or(p: _Parser) -> Callable[[dict[str, Any]], bool]:
    parts = [_and(p)]
    while p.peek("OR"):
        p.take()
        parts.append(_and(p))
    return parts[0] if len(parts) == 1 else (lambda row: any(f(row) for f in parts))


def _and(p: _Parser) -> Callable[[dict[str, Any]], bool]:
    parts = [_factor(p)]
    while p.peek("AND"):
        p.take()
        parts.append(_factor(p))
    return parts[0] if len(parts) == 1 else (lambda row: all(f(row) for f in parts))


def _factor(p: _Parser) -> Callable[[dict[str, Any]], bool]:
    if p.peek("NOT"):
        p.take()
        inner = _factor(p)
        return lambda row: not inner(row)
    if p.peek("("):
        p.take()
        inner = _or(p)
        p.take(")")
        return inner
    expr = p.expr()
    negate = bool(p.peek("NOT"))
    if negate:
        p.take()
    if p.peek("IN"):
        p.take(), p.take("(")
        values = [_literal(p)]
        while p.peek(","):
            p.take()
            values.append(_literal(p))
        p.take(")")
        return lambda row: any(_compare(expr.value(row), "=", v) for v in values) != negate
    if p.peek("LIKE"):
        p.take()
        like = re.escape(str(_literal(p))).replace("%", ".*").replace("_", ".")
        pattern = re.compile(f"^{like}$", re.I | re.S)
        return lambda row: bool(pattern.match(str(expr.value(row) or ""))) != negate
    op, value = p.take(), _literal(p)
    if op not in ("=", "!=", "<>", "<", ">", "<=", ">="):
        raise SoqlError(f"unexpected operator {op}")
    return lambda row: _compare(expr.value(row), op, value)


def _literal(p: _Parser) -> Any:
    kind, text = p.tokens[p.i] if p.i < len(p.tokens) else ("", "")
    p.take()
    if kind == "str":
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text[1:-1])
    if kind == "num":
        return float(text) if "." in text else int(text)
    if kind == "date":
        return text
    word = text.upper()
    if word in ("TRUE", "FALSE"):
        return word == "TRUE"
    if word == "NULL":
        return None
    return _date_literal(word)


def _date_literal(word: str) -> tuple[str, str]:
    today = datetime.now(UTC).date()
    name, _, n = word.partition(":")
    spans = {"TODAY": (today, today), "YESTERDAY": (today - timedelta(1),) * 2,
             "TOMORROW": (today + timedelta(1),) * 2}
    if name in spans:
        start, end = spans[name]
    elif name == "LAST_N_DAYS" and n:
        start, end = today - timedelta(int(n)), today
    elif name == "NEXT_N_DAYS" and n:
        start, end = today, today + timedelta(int(n))
    else:
        raise SoqlError(f"unexpected token: {word}")
    return start.isoformat(), end.isoformat() + "T23:59:59Z"


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(right, tuple):  # a date range literal
        lo, hi = right
        text = str(left) if left is not None else None
        checks = {"=": lambda: lo <= text <= hi, "!=": lambda: not lo <= text <= hi,
                  "<>": lambda: not lo <= text <= hi, "<": lambda: text < lo, "<=": lambda: text <= hi,
                  ">": lambda: text > hi, ">=": lambda: text >= lo}
        return text is not None and checks[op]()
    if left is None or right is None:
        equal = left is None and right is None
        return equal if op == "=" else (not equal if op in ("!=", "<>") else False)
    if isinstance(right, str) and isinstance(left, str):
        left, right = left.lower(), right.lower()
    elif isinstance(right, bool) or isinstance(left, bool):
        left, right = bool(left), bool(right)
    elif isinstance(right, (int, float)):
        try:
            left = float(left)
        except (TypeError, ValueError):
            return False
    else:
        left, right = str(left), str(right)
    return {"=": left == right, "!=": left != right, "<>": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value if isinstance(value, (int, float)) else str(value).lower())


def _by(value: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """A sort key ordering rows by ``value(row)``, nulls first (built per loop pass, so no late binding)."""
    return lambda r: _sort_key(value(r))


def execute(query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The result rows of ``query`` over ``rows`` (without ``attributes``)."""
    matched = [r for r in rows if query.where(r)]
    if query.count_only:
        return matched
    if query.aggregate:
        out = _aggregate(query, matched)
    else:
        for expr, desc in reversed(query.order_by):
            matched.sort(key=_by(expr.value), reverse=desc)
        out = [{alias: expr.value(r) for expr, alias in query.items} for r in matched]
    end = None if query.limit is None else query.offset + query.limit
    return out[query.offset:end]


def _aggregate(query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(g.value(row) for g in query.group_by), []).append(row)
    if not query.group_by and not groups:
        groups[()] = []
    out = []
    for members in groups.values():
        record = {}
        for expr, alias in query.items:
            if expr.aggregate:
                record[alias] = _fold(expr, members)
            elif expr not in query.group_by:
                raise SoqlError(f"Field must be grouped or aggregated: {expr.field}")
            else:
                record[alias] = expr.value(members[0])
        out.append(record)
    for expr, desc in reversed(query.order_by):
        name = next((a for e, a in query.items if e == expr), None)
        if name is None:
            raise SoqlError("ORDER BY of an aggregate query must name a selected item")
        out.sort(key=_by(itemgetter(name)), reverse=desc)
    return out


def _fold(expr: Expr, rows: list[dict[str, Any]]) -> Any:
    if expr.func == "COUNT":
        return len(rows) if expr.field in (None, "Id") else sum(r.get(expr.field) is not None for r in rows)
    # a field-less aggregate (``SUM()``) finds no values, as no row has a None key
    values = [v for r in rows if (v := r.get(expr.field)) is not None] if expr.field else []
    if expr.func == "COUNT_DISTINCT":
        return len(set(values))
    if not values:
        return None
    numbers = [float(v) for v in values] if expr.func in ("SUM", "AVG") else values
    return {"SUM": lambda: sum(numbers), "AVG": lambda: sum(numbers) / len(numbers),
            "MIN": lambda: min(values), "MAX": lambda: max(values)}[str(expr.func)]()
