"""The file list's CSV at branch scale: on PostgreSQL the rows are formatted by the database and sent by
`COPY (SELECT …) TO STDOUT` (no Python per cell: 1,000,000 rows in seconds, flat memory, chunks of 64 KB as
they come); elsewhere (SQLite) by app/core/exports.py's csv_chunks. The same cells either way: dates as
YYYY-MM-DD, the status's French label, and every text cell a spreadsheet would run as a formula (starting
with = + - @, a tab or a carriage return) prefixed with a quote (app/core/exports.py's defence, in SQL)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Date, String, case, cast, func, literal, select

from app.core.exports import CHUNK_BYTES, CSV_DELIMITER, FORMULA_PREFIXES, csv_chunks, streamed_rows
from app.core.listing import ListQuery
from app.extensions import db
from app.files.models import STATUS_LABELS
from app.stats import lists

EXPORT_WORK_MEM = "256MB"


def _defused(column):
    """SQL twin of exports.defuse: a quote before a formula's first character; '' as NULL (an empty
    cell, as the Python writer leaves it)."""
    text = func.nullif(cast(column, String), "")
    return case((func.substr(text, 1, 1).in_(FORMULA_PREFIXES), literal("'") + text), else_=text)


def _day(column):
    return func.to_char(cast(column, Date), "YYYY-MM-DD")


def formatted_file_list(query: ListQuery):
    """The list's statement (filters, search and sort kept) with each cell as the CSV shows it."""
    rows = lists.file_list_statement(query).subquery()
    label = case(*[(rows.c.status == status.value, text) for status, text in STATUS_LABELS.items()],
                 else_=rows.c.status)
    return select(
        cast(rows.c.id, String), _defused(rows.c.last_name), _defused(rows.c.first_name),
        _defused(rows.c.cqp_code), _defused(rows.c.cqp_title), _defused(rows.c.establishment_name),
        _defused(rows.c.siret), _defused(label), _defused(rows.c.status), _day(rows.c.created_at),
        _day(rows.c.status_changed_at), _day(rows.c.jury_date),
    ).select_from(rows)


def _header() -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n").writerow(lists.FILE_HEADERS)
    return "\ufeff" + buffer.getvalue()


def copy_chunks(statement) -> Iterator[bytes]:
    """`COPY (statement) TO STDOUT` in CSV on the request's own connection, regrouped in CHUNK_BYTES."""
    compiled = statement.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    connection = db.session.connection().connection.driver_connection
    sql = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv, DELIMITER '{CSV_DELIMITER}')"
    pending: list[bytes] = []
    size = 0
    with connection.cursor() as cursor:
        # The list's order over every file is one sort of the whole result: in memory for this transaction
        # only (else it spills to disk and the first byte waits for it), and no JIT for a one-off query.
        cursor.execute(f"SET LOCAL work_mem = '{EXPORT_WORK_MEM}'")
        cursor.execute("SET LOCAL jit = off")
    with connection.cursor() as cursor, cursor.copy(sql, compiled.params) as copy:
        for data in copy:
            pending.append(bytes(data))
            size += len(data)
            if size >= CHUNK_BYTES:
                yield b"".join(pending)
                pending, size = [], 0
    yield b"".join(pending)


def file_list_csv(query: ListQuery) -> Iterator[str | bytes]:
    if db.session.get_bind().dialect.name != "postgresql":
        yield from csv_chunks(lists.FILE_HEADERS, streamed_rows(lists.file_list_statement(query), lists.file_row))
        return
    yield _header().encode()
    yield from copy_chunks(formatted_file_list(query))
