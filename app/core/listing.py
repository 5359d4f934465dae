"""Lists: pagination, sorting, filtering and search parsed from the query string, run in SQL.

A list page declares its sortable columns and its filters once; `parse_list_args` reads
`?page=&per_page=&sort=&dir=&q=&apres=&avant=&<filter>=` tolerantly (a bad value falls back to the
default: these are links people bookmark, not forms), and `paginate` runs at most three queries whatever
the number of rows: one COUNT (remembered a minute for a long list), the page's sort keys and its rows.

Deep pages never scan: given its sort keys, `paginate` answers the page after (`apres`) or before
(`avant`) a keyset cursor (the sort values of a row, then its id) with `WHERE (keys) > (cursor)` on
the ordered index, so page 4,000 costs what page 1 costs. Page numbers (OFFSET) stay for the first
pages (the links up to MAX_NUMBERED_PAGE); `avant=fin` is the last page. The COUNT reads the listed
table alone (`count_from`) when the list's filters are conditions on it (joins only for the columns).

Templates build links with the `list_url(**changes)` global (the current arguments with some
changed; a change of filter, sort or search goes back to page 1).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from flask import Flask, request, url_for
from sqlalchemy import FromClause, Select, func, literal, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import find_tables

from app.core.errors import ValidationFailed
from app.extensions import db

DEFAULT_PER_PAGE = 25
PER_PAGE_CHOICES = (10, 25, 50, 100)
MAX_SEARCH_LENGTH = 100
MAX_CURSOR_LENGTH = 500
# Page numbers shown as links up to this one; further pages are reached by cursor (« Suivante »).
MAX_NUMBERED_PAGE = 10
LAST = "fin"  # avant=fin: the last page


class BadCursor(ValueError):
    """A cursor that is not one of ours (edited, truncated, or of another list)."""


def encode_cursor(values: Sequence[Any]) -> str:
    """A row's sort values as an opaque, URL-safe cursor (dates and times kept as such)."""
    def tagged(value):
        if isinstance(value, datetime):
            return {"t": value.isoformat()}
        if isinstance(value, date):
            return {"d": value.isoformat()}
        return value
    raw = json.dumps([tagged(v) for v in values], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The values of `encode_cursor`; BadCursor when it is not a cursor of `length` values."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor(cursor)
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error
    if not isinstance(values, list) or len(values) != length:
        raise BadCursor(cursor)
    decoded = []
    for value in values:
        try:
            if isinstance(value, dict) and set(value) == {"t"}:
                value = datetime.fromisoformat(value["t"])
            elif isinstance(value, dict) and set(value) == {"d"}:
                value = date.fromisoformat(value["d"])
        except (TypeError, ValueError) as error:
            raise BadCursor(cursor) from error
        if isinstance(value, (dict, list)) or (isinstance(value, int) and abs(value) >= 2 ** 63):
            raise BadCursor(cursor)
        decoded.append(value)
    return decoded


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = ""
    direction: str = "asc"
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    after: str = ""  # keyset cursor: the page after this row
    before: str = ""  # keyset cursor: the page before this row (LAST: the last page)

    @property
    def descending(self) -> bool:
        return self.direction == "desc"

    def args(self) -> dict[str, str]:
        """Filters, search and sort as query-string arguments (for an export of the same list)."""
        args = dict(self.filters)
        if self.q:
            args["q"] = self.q
        if self.sort:
            args.update(sort=self.sort, dir=self.direction)
        return args


@dataclass
class Page:
    """A page of a list. `page` is its number when reached by number (OFFSET), None when reached by a
    cursor (its rank is not counted); `next_cursor` / `prev_cursor` lead to the neighbours."""

    items: list
    total: int
    page: int | None
    per_page: int
    next_cursor: str | None = None
    prev_cursor: str | None = None
    keyset: bool = False  # the list has sort keys (cursors) at all

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def numbered(self) -> bool:
        return self.page is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None if not self.numbered else self.page > 1

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None if not self.numbered else self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total and self.numbered else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total) if self.numbered else 0

    # The links' arguments: page numbers up to MAX_NUMBERED_PAGE, cursors beyond (and once on a cursor).
    def next_args(self) -> dict[str, Any]:
        if self.numbered and (not self.keyset or self.page < MAX_NUMBERED_PAGE or self.next_cursor is None):
            return {"page": self.page + 1}
        return {"apres": self.next_cursor}

    def prev_args(self) -> dict[str, Any]:
        return {"page": self.page - 1} if self.numbered else {"avant": self.prev_cursor}

    def last_args(self) -> dict[str, Any]:
        return {"page": self.pages} if not self.keyset or self.pages <= MAX_NUMBERED_PAGE else {"avant": LAST}


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return value if value >= 1 else default


def parse_list_args(args: Mapping[str, str], *, sorts: Iterable[str], default_sort: str,
                    default_direction: str = "asc", filters: Iterable[str] = ()) -> ListQuery:
    """Reads the list arguments; unknown sort keys, bad pages and empty filters are dropped."""
    sort = args.get("sort", "")
    if sort not in set(sorts):
        sort, direction = default_sort, default_direction
    else:
        direction = args.get("dir", "asc")
    if direction not in ("asc", "desc"):
        direction = default_direction
    per_page = _positive_int(args.get("per_page"), DEFAULT_PER_PAGE)
    if per_page not in PER_PAGE_CHOICES:
        per_page = DEFAULT_PER_PAGE
    found = {}
    for name in filters:
        value = (args.get(name) or "").strip()
        if value:
            found[name] = value
    return ListQuery(
        page=_positive_int(args.get("page"), 1),
        per_page=per_page,
        sort=sort,
        direction=direction,
        q=(args.get("q") or "").strip()[:MAX_SEARCH_LENGTH],
        filters=found,
        after=(args.get("apres") or "").strip()[:MAX_CURSOR_LENGTH],
        before=(args.get("avant") or "").strip()[:MAX_CURSOR_LENGTH],
    )


def sort_keys(query: ListQuery, sorts: Mapping[str, ColumnElement | tuple[ColumnElement, ...]],
              tiebreaker: ColumnElement) -> list[ColumnElement]:
    """The chosen column(s) then a unique column: the ORDER BY, and the keyset of the cursors."""
    columns = sorts[query.sort]
    return [*(columns if isinstance(columns, tuple) else (columns,)), tiebreaker]


def _ordered(stmt: Select, keys: Sequence[ColumnElement], descending: bool) -> Select:
    return stmt.order_by(None).order_by(*(k.desc() if descending else k.asc() for k in keys))


def apply_sort(stmt: Select, query: ListQuery, sorts: Mapping[str, ColumnElement | tuple[ColumnElement, ...]],
               tiebreaker: ColumnElement) -> Select:
    """ORDER BY the chosen column(s) then a unique column, so that pages never overlap."""
    return _ordered(stmt, sort_keys(query, sorts, tiebreaker), query.descending)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own wildcards escaped (with ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# A long list's count is remembered a minute, per process: COUNT(*) reads every row it counts (100,000
# files: ~10 ms of the database at each page of the list, 1,000,000: ~100 ms), and a total in the tens of
# thousands need not be exact to the last minute. A shorter list is counted at every page; the rows of a
# page are always read live.
REMEMBERED_COUNT_FROM = 10_000
REMEMBERED_COUNT_SECONDS = 60.0
_REMEMBERED_COUNTS_MAX = 1_000
_remembered_counts: dict[tuple, tuple[float, int]] = {}
_remembered_lock = threading.Lock()


def _count_key(counted: Select) -> tuple:
    """What tells two counts apart without compiling the statement (it is compiled once, to run it): the
    database, the statement's SQLAlchemy cache key (its shape) and its bound values."""
    bind = db.session.get_bind()
    cache_key = counted._generate_cache_key()
    if cache_key is None:  # a construct that cannot be cached: its SQL text and parameters
        compiled = counted.compile(bind)
        return bind.url, str(compiled), repr(sorted(compiled.params.items()))
    return bind.url, cache_key.key, repr([param.effective_value for param in cache_key.bindparams])


def count_rows(stmt: Select, count_from: FromClause | None = None) -> int:
    """COUNT(*) of the statement's rows: over `count_from` alone with the statement's WHERE when given
    (its conditions must then be on that table, subqueries allowed), else over the whole statement.
    A count of REMEMBERED_COUNT_FROM rows or more is reused for REMEMBERED_COUNT_SECONDS."""
    if count_from is not None:
        counted = select(func.count()).select_from(count_from)
        if stmt.whereclause is not None:
            counted = counted.where(stmt.whereclause)
    else:
        counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    key = _count_key(counted)
    now = time.monotonic()
    remembered = _remembered_counts.get(key)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    total = db.session.scalar(counted) or 0
    if total >= REMEMBERED_COUNT_FROM:
        with _remembered_lock:
            if len(_remembered_counts) >= _REMEMBERED_COUNTS_MAX:
                for stale in [k for k, (until, _) in _remembered_counts.items() if until <= now] or \
                        list(_remembered_counts)[: _REMEMBERED_COUNTS_MAX // 2]:
                    _remembered_counts.pop(stale, None)
            _remembered_counts[key] = (now + REMEMBERED_COUNT_SECONDS, total)
    return total


def paginate(stmt: Select, query: ListQuery, *, scalars: bool = False, keys: Sequence[ColumnElement] | None = None,
             count_from: FromClause | None = None, cursor_field: str | None = None) -> Page:
    """The total (COUNT, see count_rows) and the rows of the page (the ORM objects with `scalars`, plus the
    queries of the statement's eager loads); with `keys` on `count_from`'s columns, the page's keys first
    (see below). A page number past the end shows the last page.

    `keys`: the statement's sort keys (sort_keys: unique as a whole, ORDER BY them in the query's
    direction); with them the page after / before a cursor is read through the index (no OFFSET),
    and the page carries the cursors of its neighbours. A cursor that is not one: a 422 naming
    `cursor_field` when given (the API), else the first page (a web link edited by hand)."""
    if keys and (query.after or query.before):
        try:
            if query.after:
                decode_cursor(query.after, len(keys))
            if query.before and query.before != LAST:
                decode_cursor(query.before, len(keys))
        except BadCursor:
            if cursor_field:
                raise ValidationFailed.for_field(cursor_field, (
                    f"Curseur de pagination « {cursor_field} » invalide : reprenez la liste depuis sa première "
                    "page et suivez ses liens.")) from None
            query = replace(query, after="", before="", page=1)
    total = count_rows(stmt, count_from)
    per_page = query.per_page
    if not keys:
        pages = max(1, math.ceil(total / per_page))
        page = min(query.page, pages)
        window = stmt.limit(per_page).offset((page - 1) * per_page)
        rows = db.session.scalars(window).unique().all() if scalars else db.session.execute(window).all()
        return Page(items=list(rows), total=total, page=page, per_page=per_page)
    keys = list(keys)
    # When the sort keys are columns of the listed table, two statements for the page: its keys, read on
    # that table alone (the ordered index, nothing joined), then its rows by their unique key. PostgreSQL
    # plans a statement joining seven tables under ORDER BY … LIMIT in ~60 ms (each index of the listed
    # table an ordered path to weigh against every join order) and runs it in 1 ms; « WHERE id IN (the
    # page's ids) » leaves it nothing to weigh (~3 ms). The rows come in the order of the keys. Otherwise
    # (keys of a joined table) one statement, its rows carrying their keys.
    by_keys = count_from is not None and all(set(find_tables(_clause(key), check_columns=True)) <= {count_from} for key in keys)
    if by_keys:
        keyed = select(*keys).select_from(count_from)
        if stmt.whereclause is not None:
            keyed = keyed.where(stmt.whereclause)
    else:
        keyed = stmt.add_columns(*(key.label(f"_cursor_{i}") for i, key in enumerate(keys)))
    descending = query.descending
    page: int | None = None
    if query.after:
        values = decode_cursor(query.after, len(keys))
        window = _ordered(keyed, keys, descending).where(_beyond(keys, values, forward=not descending))
        found = _rows(window.limit(per_page + 1))
        more, found = len(found) > per_page, found[:per_page]
        has_prev, has_next = True, more
    elif query.before:
        window = _ordered(keyed, keys, not descending)
        if query.before != LAST:
            window = window.where(_beyond(keys, decode_cursor(query.before, len(keys)), forward=descending))
        found = _rows(window.limit(per_page + 1))
        more, found = len(found) > per_page, found[:per_page][::-1]
        has_prev, has_next = more, query.before != LAST and bool(found)
    else:
        pages = max(1, math.ceil(total / per_page))
        page = min(query.page, pages)
        found = _rows(_ordered(keyed, keys, descending).limit(per_page).offset((page - 1) * per_page))
        has_prev, has_next = page > 1, page < pages
    width = len(keys)
    if by_keys:
        items = _page_rows(stmt, keys[-1], [row[-1] for row in found], scalars)
    else:
        items = [row[0] for row in found] if scalars else list(found)
    return Page(items=items, total=total, page=page, per_page=per_page, keyset=True,
                next_cursor=encode_cursor(list(found[-1][-width:])) if has_next and found else None,
                prev_cursor=encode_cursor(list(found[0][-width:])) if has_prev and found else None)


def _clause(key: ColumnElement) -> ColumnElement:
    return key.__clause_element__() if hasattr(key, "__clause_element__") else key


def _page_rows(stmt: Select, unique_key: ColumnElement, ids: list, scalars: bool) -> list:
    """The statement's rows (or ORM objects) whose `unique_key` is one of `ids`, in the order of `ids`."""
    if not ids:
        return []
    rows = db.session.execute(stmt.order_by(None).add_columns(unique_key.label("_page_key"))
                              .where(unique_key.in_(ids))).unique().all()
    by_key = {row[-1]: row for row in rows}
    return [by_key[i][0] if scalars else by_key[i] for i in ids if i in by_key]


def _beyond(keys: Sequence[ColumnElement], values: Sequence[Any], *, forward: bool) -> ColumnElement:
    """(keys) > (values), or < when not `forward`: a row comparison the index answers."""
    row = tuple_(*keys)
    bound = tuple_(*(literal(value, key.type) for key, value in zip(keys, values, strict=True)))
    return row > bound if forward else row < bound


def _rows(window: Select) -> list:
    return list(db.session.execute(window).unique().all())


def list_url(endpoint: str | None = None, **changes: Any) -> str:
    """The current page's URL with some arguments changed (None or '' removes one). Any change
    other than the page itself goes back to page 1."""
    # A page is reached by one means (its number or one cursor); any other change goes back to page 1.
    args = {k: v for k, v in request.args.items() if k not in ("page", "apres", "avant")}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(endpoint or request.endpoint, **(request.view_args or {}), **args)


def sort_state(query: ListQuery, key: str) -> str | None:
    """'ascending' / 'descending' for the column the list is sorted by (aria-sort), else None."""
    if query.sort != key:
        return None
    return "descending" if query.descending else "ascending"


def init_app(app: Flask) -> None:
    app.jinja_env.globals["list_url"] = list_url
    app.jinja_env.globals["sort_state"] = sort_state
