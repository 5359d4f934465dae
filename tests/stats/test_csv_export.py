"""The file list's CSV formatted by PostgreSQL's COPY (app/stats/csv_export.py) holds the same cells as the
Python writer of app/core/exports.py: delimiters, quotes, line breaks, empty cells, every formula prefix."""

from __future__ import annotations

import csv
import io

import pytest

from app.core.exports import csv_chunks, streamed_rows
from app.extensions import db
from app.stats import csv_export, lists
from tests.stats.dataset import build_branch

TRICKY = [  # (first name, last name)
    ("=HYPERLINK(\"http://x\")", "@SUM(A1)"), ("+33 6", "-1"), ("\tTab", "\rRetour"),
          ("Point;virgule", "Guillemet \"dit\""), ("Zoé", "Ligne\nsuivante")]


def _rows(chunks) -> list[list[str]]:
    text = "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))


@pytest.mark.postgres_only
@pytest.mark.parametrize("args", [{}, {"sort": "candidat", "dir": "asc"}, {"status": "valide"}, {"q": "zoé"},
                                  {"year": "2025", "cqp": "fab-opf"}])
def test_copy_gives_the_cells_of_the_python_writer(app_ctx, args):
    branch = build_branch()
    for file, (last, first) in zip(branch.files.values(), TRICKY, strict=False):
        file.candidate.set_names(last, first)
    db.session.commit()
    query = lists.parse_file_list_args(args)
    python = _rows(csv_chunks(lists.FILE_HEADERS, streamed_rows(lists.file_list_statement(query), lists.file_row)))
    copied = _rows(csv_export.file_list_csv(query))
    assert copied == python
    assert len(copied) > 1  # the header and at least one file
    if not args:
        cells = {cell for row in copied for cell in row}
        assert {"'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+33 6", "'-1",
                "Point;virgule", "Guillemet \"dit\"", "Ligne\nsuivante"} <= cells
