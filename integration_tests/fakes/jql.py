"""A small JQL parser and evaluator: the clauses, dates and ordering connectors send.

Supported: `project`, `key`/`issuekey`, `id`, `status`, `statusCategory`/`category`,
`issuetype`/`type` with `= != IN NOT IN` (`id` also `> >= < <=`); `updated`/`created`
(also `…Date`) with
`= != > >= < <=` against epoch milliseconds (zone-free), quoted date literals in the user's zone
(minute precision) or periods (`-5d`, `4w 2d`); `AND`, `OR`, `NOT`, parentheses;
`ORDER BY updated|created|key|id [ASC|DESC], …`. Errors carry Jira's messages.
"""

from __future__ import annotations

import bisect
import operator
import re
import time
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from integration_tests.fakes.jira_data import ISSUE_TYPES, STATUSES, Issue, Project, to_epoch_ms

Predicate = Callable[[Issue], bool]
# The `updated` values (epoch ms) a predicate can accept, inclusive; None is open.
Bounds = tuple[int | None, int | None]
_OPEN: Bounds = (None, None)


class JqlError(ValueError):
    """A query Jira would reject with 400; `str(error)` is the `errorMessages` entry."""


@dataclass(frozen=True)
class Query:
    """A parsed query: `where` is None for an unbounded query (empty or only ORDER BY)."""

    where: Predicate | None
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)
    updated_bounds: Bounds = _OPEN

    def run(self, issues_in_key_order: Iterable[Issue]) -> list[Issue]:
        """Filter and sort; without ORDER BY the key order is kept."""
        where = self.where
        found = [i for i in issues_in_key_order if where is None or where(i)]
        for name, descending in reversed(self.order_by):  # stable sorts, last key first
            found.sort(key=_SORT_KEYS[name], reverse=descending)
        return found


def issue_order(issue: Issue) -> tuple[str, int]:
    """Jira's key order: project, then issue number numerically."""
    return issue.project_key, issue.number


class IssueIndex:
    """Issues in key order with an index on `updated`, as Jira indexes them for search.

    A query bounded on `updated` (a sync's window or cursor) looks only at the issues in its
    bounds, so paging through N issues does not cost N evaluations per page.
    """

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.in_key_order = sorted(issues, key=issue_order)
        self._by_updated = sorted(self.in_key_order, key=_SORT_KEYS["updated"])
        self._updated = [issue.updated for issue in self._by_updated]

    def search(self, query: Query) -> list[Issue]:
        """Run `query` on the issues its `updated` bounds admit."""
        low, high = query.updated_bounds
        if low is None and high is None:
            return query.run(self.in_key_order)
        start = 0 if low is None else bisect.bisect_left(self._updated, low)
        stop = len(self._updated) if high is None else bisect.bisect_right(self._updated, high)
        return query.run(sorted(self._by_updated[start:stop], key=issue_order))


_SORT_KEYS: dict[str, Callable[[Issue], Any]] = {
    "updated": operator.attrgetter("updated"),
    "created": operator.attrgetter("created"),
    "key": issue_order,
    "id": operator.attrgetter("id"),
}
_FIELD_ALIASES = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "id": "id",
    "status": "status",
    "statuscategory": "statusCategory",
    "category": "statusCategory",
    "issuetype": "issuetype",
    "type": "issuetype",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
}
# fields real Jira searches and sorts by but this fake does not
_UNSUPPORTED = {
    "assignee",
    "reporter",
    "creator",
    "priority",
    "summary",
    "description",
    "labels",
    "component",
    "resolution",
    "resolved",
    "duedate",
    "parent",
    "text",
}
_DATE_FIELDS = frozenset(("updated", "created"))
_EQUALITY = ("=", "!=", "in", "not in")
_COMPARISON = ("=", "!=", ">", ">=", "<", "<=")

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|>=|<=|!~|[=<>~(),])
    | (?P<word>[^\s=!<>~(),"']+)
    )""",
    re.VERBOSE,
)
_DATE_FORMATS = (
    (re.compile(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}"), "%Y/%m/%d %H:%M"),
    (re.compile(r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}"), "%Y-%m-%d %H:%M"),
    (re.compile(r"\d{4}/\d{1,2}/\d{1,2}"), "%Y/%m/%d"),
    (re.compile(r"\d{4}-\d{1,2}-\d{1,2}"), "%Y-%m-%d"),
)
_PERIOD = re.compile(r"([-+]?)((?:\s*\d+[wdhm])+)")
_PERIOD_PART = re.compile(r"(\d+)([wdhm])")
_PERIOD_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


@dataclass(frozen=True)
class _Token:
    kind: str  # string | op | word | end
    text: str
    position: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words

    @property
    def value(self) -> str:
        if self.kind != "string":
            return self.text
        return re.sub(r"\\(.)", r"\1", self.text[1:-1])


def _syntax_error(message: str, token: _Token) -> JqlError:
    return JqlError(f"Error in the JQL Query: {message} (line 1, character {token.position + 1})")


def _tokenize(text: str) -> list[_Token]:
    tokens, position = [], 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].lstrip()
            at = len(text) - len(rest)
            if not rest:
                tokens.append(_Token("end", "", at))
                return tokens
            bad = _Token("op", rest[0], at)
            if rest[0] in "\"'":
                raise _syntax_error(f"Missing closing quote for string {rest!r}.", bad)
            raise _syntax_error(
                f"The character '{rest[0]}' is a reserved JQL character. You must enclose it "
                "in a string.",
                bad,
            )
        kind = match.lastgroup or "word"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()


def parse_jql(
    text: str,
    *,
    projects: Sequence[Project],
    zone: ZoneInfo,
    now_ms: int | None = None,
    issue_ids: Container[int] | None = None,
) -> Query:
    """Parse and compile `text` for a user who sees `projects` and lives in `zone`.

    `issue_ids`, when given, are the ids of the issues the user sees: `id = N`, `id != N`,
    `id in (...)` with any other id is a 400, as in Jira (see `_resolve`).
    Raises :class:`JqlError` with the message Jira would put in `errorMessages`.
    """
    parser = _Parser(
        _tokenize(text), projects, zone, int(time.time() * 1000) if now_ms is None else now_ms
    )
    parser.issue_ids = issue_ids
    return parser.query()


class _Parser:
    def __init__(
        self, tokens: list[_Token], projects: Sequence[Project], zone: ZoneInfo, now_ms: int
    ) -> None:
        self.tokens = tokens
        self.at = 0
        self.projects = projects
        self.zone = zone
        self.now_ms = now_ms
        self.semantic_error: JqlError | None = None  # raised only if the syntax is fine
        self.issue_ids: Container[int] | None = None

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect_op(self, op: str) -> None:
        if self.token.kind != "op" or self.token.text != op:
            raise self.unexpected(f"'{op}'")
        self.at += 1

    def unexpected(self, wanted: str) -> JqlError:
        got = "the end of the query" if self.token.kind == "end" else f"'{self.token.text}'"
        return _syntax_error(f"Expecting {wanted} but got {got}.", self.token)

    def at_order_by(self) -> bool:
        return self.token.is_word("ORDER") and self.tokens[self.at + 1].is_word("BY")

    def query(self) -> Query:
        where, bounds = None, _OPEN
        if self.token.kind != "end" and not self.at_order_by():
            where, bounds = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.at_order_by():
            self.at += 2
            order.append(self.sort_key())
            while self.token.kind == "op" and self.token.text == ",":
                self.at += 1
                order.append(self.sort_key())
        if self.token.kind != "end":
            raise self.unexpected("either 'OR' or 'AND'" if where else "a field name")
        if self.semantic_error:
            raise self.semantic_error
        return Query(where, tuple(order), bounds)

    def sort_key(self) -> tuple[str, bool]:
        token = self.take()
        if token.kind not in ("word", "string"):
            raise _syntax_error(f"Expecting a field name but got '{token.text}'.", token)
        name = _FIELD_ALIASES.get(token.value.lower())
        if name not in _SORT_KEYS:
            raise _field_error(token.value, known=name is not None)
        descending = self.token.is_word("DESC")
        if descending or self.token.is_word("ASC"):
            self.at += 1
        return name, descending

    def or_expr(self) -> tuple[Predicate, Bounds]:
        return _combined(self.operands(self.and_expr, "OR", "||"), any, _hull)

    def and_expr(self) -> tuple[Predicate, Bounds]:
        return _combined(self.operands(self.not_expr, "AND", "&&"), all, _overlap)

    def operands(
        self, operand: Callable[[], tuple[Predicate, Bounds]], *words: str
    ) -> list[tuple[Predicate, Bounds]]:
        parts = [operand()]
        while self.token.is_word(*words):
            self.at += 1
            parts.append(operand())
        return parts

    def not_expr(self) -> tuple[Predicate, Bounds]:
        if self.token.is_word("NOT"):
            self.at += 1
            inner, _ = self.not_expr()
            return lambda i: not inner(i), _OPEN
        if self.token.kind == "op" and self.token.text == "(":
            self.at += 1
            grouped = self.or_expr()
            self.expect_op(")")
            return grouped
        return self.clause()

    def clause(self) -> tuple[Predicate, Bounds]:
        token = self.take()
        if token.kind not in ("word", "string"):
            raise _syntax_error(f"Expecting a field name but got '{token.text}'.", token)
        op = self.operator()
        values = self.value_list() if op in ("in", "not in") else [self.value()]
        try:
            return _compile_clause(self, token.value, op, values)
        except JqlError as error:
            self.semantic_error = self.semantic_error or error
            return lambda _: False, _OPEN

    def operator(self) -> str:
        token = self.take()
        if token.kind == "op" and token.text not in "(),":
            return token.text
        if token.is_word("IN"):
            return "in"
        if token.is_word("NOT") and self.token.is_word("IN"):
            self.at += 1
            return "not in"
        if token.is_word("IS", "WAS", "CHANGED"):
            if self.token.is_word("NOT"):
                self.at += 1
                return f"{token.text} not".lower()
            return token.text.lower()
        self.at -= 1
        raise self.unexpected("operator")

    def value(self) -> str:
        if self.token.kind not in ("word", "string"):
            raise self.unexpected("either a value, list or function")
        return self.take().value

    def value_list(self) -> list[str]:
        self.expect_op("(")
        values = [self.value()]
        while self.token.kind == "op" and self.token.text == ",":
            self.at += 1
            values.append(self.value())
        self.expect_op(")")
        return values

    def instant(self, field: str, value: str) -> int:
        """Epoch ms for a date operand: bare ms, a literal in the user's zone, or a period."""
        if value.isdigit():
            return int(value)
        for pattern, layout in _DATE_FORMATS:
            if pattern.fullmatch(value):
                try:
                    local = datetime.strptime(value, layout)
                except ValueError:
                    break
                return to_epoch_ms(local.replace(tzinfo=self.zone))
        period = _PERIOD.fullmatch(value.strip())
        if period:
            amount = sum(
                int(n) * _PERIOD_MS[unit] for n, unit in _PERIOD_PART.findall(period.group(2))
            )
            return self.now_ms - amount if period.group(1) == "-" else self.now_ms + amount
        raise JqlError(
            f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )


def _field_error(written: str, *, known: bool = False) -> JqlError:
    """Jira's unknown-field error, or a clear one for fields only the fake cannot handle."""
    if known or written.lower() in _UNSUPPORTED:
        return JqlError(f"The fake Jira does not support '{written}' here (real Jira does).")
    return JqlError(f"Field '{written}' does not exist or you do not have permission to view it.")


def _compile_clause(
    parser: _Parser, written: str, op: str, values: list[str]
) -> tuple[Predicate, Bounds]:
    field = _FIELD_ALIASES.get(written.lower())
    if field is None:
        raise _field_error(written)
    allowed = _COMPARISON if field in (*_DATE_FIELDS, "id") else _EQUALITY
    if op not in allowed:
        raise JqlError(f"The operator '{op.upper()}' is not supported by the '{written}' field.")
    if field in _DATE_FIELDS:
        compare, instant = _OPERATORS[op], parser.instant(written, values[0])
        get_time = operator.attrgetter(field)
        bounds = _time_bounds(op, instant) if field == "updated" else _OPEN
        return lambda i: compare(get_time(i), instant), bounds
    if field == "id" and op in _OPERATORS and op not in ("=", "!="):
        compare, bound = _OPERATORS[op], _resolve(parser.projects, field, written, values[0])
        return lambda i: isinstance(bound, int) and compare(i.id, bound), _OPEN
    wanted = frozenset(_resolve(parser.projects, field, written, v) for v in values)
    if field == "id" and parser.issue_ids is not None:
        _require_known_ids(parser.issue_ids, written, values)
    negate = op in ("!=", "not in")
    get = _MEMBER_GETTERS[field]
    return lambda i: (get(i) in wanted) != negate, _OPEN


def _combined(
    parts: list[tuple[Predicate, Bounds]],
    quantifier: Callable[[Iterable[bool]], bool],
    bounds_of: Callable[[list[Bounds]], Bounds],
) -> tuple[Predicate, Bounds]:
    """Join OR (`any`, `_hull`) or AND (`all`, `_overlap`) operands."""
    if len(parts) == 1:
        return parts[0]
    predicates = [predicate for predicate, _ in parts]
    return lambda i: quantifier(p(i) for p in predicates), bounds_of([b for _, b in parts])


def _hull(bounds: list[Bounds]) -> Bounds:
    """The `updated` range any of `bounds` admits (OR)."""
    lows = [low for low, _ in bounds]
    highs = [high for _, high in bounds]
    return (
        None if None in lows else min(low for low in lows if low is not None),
        None if None in highs else max(high for high in highs if high is not None),
    )


def _overlap(bounds: list[Bounds]) -> Bounds:
    """The `updated` range all of `bounds` admit (AND)."""
    lows = [low for low, _ in bounds if low is not None]
    highs = [high for _, high in bounds if high is not None]
    return max(lows, default=None), min(highs, default=None)


def _time_bounds(op: str, instant: int) -> Bounds:
    """The epoch-ms range `updated <op> instant` admits."""
    return {
        "=": (instant, instant),
        ">": (instant + 1, None),
        ">=": (instant, None),
        "<": (None, instant - 1),
        "<=": (None, instant),
    }.get(op, _OPEN)


_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_MEMBER_GETTERS: dict[str, Callable[[Issue], object]] = {
    "project": operator.attrgetter("project_key"),
    "key": operator.attrgetter("key"),
    "id": operator.attrgetter("id"),
    "status": lambda i: i.status.id,
    "statusCategory": lambda i: i.status.category_id,
    "issuetype": lambda i: i.issuetype.id,
}


def _require_known_ids(issue_ids: Container[int], written: str, values: list[str]) -> None:
    """Refuse an equality on an id the user does not see, as Jira's JQL validation does.

    Jira validates the values of `id =`, `!=`, `in` and `not in` (an id of a deleted issue, or of
    one the user may not browse, fails the whole query with 400; Jira's `IssueIdValidator`).
    Whether it also checks range operands (`id > N`) is not documented: this fake does not.
    """
    for value in values:
        if not value.isdigit() or int(value) not in issue_ids:
            raise JqlError(f"A value with ID '{value}' does not exist for the field '{written}'.")


def _resolve(projects: Sequence[Project], field: str, written: str, value: str) -> object:
    """Map a written value to what `_MEMBER_GETTERS` returns; unknown values are 400s."""
    if field == "key":
        return value.upper()
    if field == "id":
        return int(value) if value.isdigit() else None
    folded = value.casefold()
    found: object = None
    if field == "project":
        found = next(
            (p.key for p in projects if folded in (p.key.casefold(), p.id, p.name.casefold())), None
        )
    elif field == "statusCategory":
        found = next(
            (
                s.category_id
                for s in STATUSES
                if folded in (s.category_name.casefold(), s.category_key, str(s.category_id))
            ),
            None,
        )
    else:
        table = STATUSES if field == "status" else ISSUE_TYPES
        found = next((t.id for t in table if folded in (t.name.casefold(), t.id)), None)
    if found is None:
        raise JqlError(f"The value '{value}' does not exist for the field '{written}'.")
    return found
