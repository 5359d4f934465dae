"""CSV and XLSX exports that stream: rows come from a generator (a database cursor read in
batches), never a list built in memory.

- CSV: UTF-8 with a BOM and `;` as separator (what French spreadsheets open without a wizard),
  sent chunk by chunk as rows arrive.
- XLSX: openpyxl in write_only mode (rows go straight to a temporary file, not kept in memory),
  then the finished workbook is sent in chunks from that file.

Cells that a spreadsheet would run as a formula (starting with = + - @) are prefixed with a
quote: a candidate's name must never become a formula on the secretariat's computer.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from flask import Response, abort, stream_with_context
from openpyxl import Workbook
from sqlalchemy import Select

from app.extensions import db

FORMATS = ("csv", "xlsx")
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_DELIMITER = ";"
CHUNK_ROWS = 500
CHUNK_BYTES = 64 * 1024
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return defuse(value)


def xlsx_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return defuse(value)


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(headers)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v) for v in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "Export")
    sheet.append(list(headers))
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def streamed_rows(stmt: Select, to_row: Callable[[Any], Sequence[Any]] | None = None,
                  batch: int = 1000) -> Iterator[Sequence[Any]]:
    """Rows of a statement read in batches (a server-side cursor on PostgreSQL)."""
    result = db.session.execute(stmt.execution_options(yield_per=batch))
    for row in result:
        yield to_row(row) if to_row else tuple(row)


def export_response(fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                    sheet_title: str = "Export") -> Response:
    """The streamed download of `rows` as `filename`.<fmt>; an unknown format is a 404."""
    if fmt == "csv":
        body = csv_chunks(headers, rows)
        mimetype = f"{CSV_MIMETYPE}; charset=utf-8"
    elif fmt == "xlsx":
        body = xlsx_chunks(headers, rows, sheet_title)
        mimetype = XLSX_MIMETYPE
    else:
        abort(404)
    return stream_response(body, mimetype, f"{filename}.{fmt}")


def stream_response(body: Iterable[str | bytes], mimetype: str, filename: str) -> Response:
    """The streamed download of chunks already made (a database's COPY, for instance)."""
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
