"""Lists: pagination, sorting, filtering and search parsed from the query string, run in SQL.

A list page declares its sortable columns and its filters once; `parse_list_args` reads
`?page=&per_page=&sort=&dir=&q=&<filter>=` tolerantly (a bad value falls back to the default:
these are links people bookmark, not forms), and `paginate` runs two queries whatever the
number of rows: one COUNT and one page of rows.

Templates build links with the `list_url(**changes)` global (the current arguments with some
changed; a change of filter, sort or search goes back to page 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db

DEFAULT_PER_PAGE = 25
PER_PAGE_CHOICES = (10, 25, 50, 100)
MAX_SEARCH_LENGTH = 100


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = ""
    direction: str = "asc"
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)

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
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)


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
    )


def apply_sort(stmt: Select, query: ListQuery, sorts: Mapping[str, ColumnElement | tuple[ColumnElement, ...]],
               tiebreaker: ColumnElement) -> Select:
    """ORDER BY the chosen column(s) then a unique column, so that pages never overlap."""
    columns = sorts[query.sort]
    columns = columns if isinstance(columns, tuple) else (columns,)
    ordered = [c.desc() if query.descending else c.asc() for c in columns]
    return stmt.order_by(*ordered, tiebreaker.desc() if query.descending else tiebreaker.asc())


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own wildcards escaped (with ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paginate(stmt: Select, query: ListQuery, *, scalars: bool = False) -> Page:
    """Two queries: the total (COUNT over the unordered statement) and the rows of the page (the ORM
    objects with `scalars`, plus the queries of the statement's eager loads). A page past the end shows
    the last page."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / query.per_page))
    page = min(query.page, pages)
    window = stmt.limit(query.per_page).offset((page - 1) * query.per_page)
    rows = db.session.scalars(window).unique().all() if scalars else db.session.execute(window).all()
    return Page(items=list(rows), total=total, page=page, per_page=query.per_page)


def list_url(endpoint: str | None = None, **changes: Any) -> str:
    """The current page's URL with some arguments changed (None or '' removes one). Any change
    other than the page itself goes back to page 1."""
    args = {k: v for k, v in request.args.items()}
    if "page" not in changes:
        args.pop("page", None)
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
