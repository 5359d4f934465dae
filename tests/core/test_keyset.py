"""Keyset pagination (app.core.listing.paginate with sort keys): following the cursors forward or backward
visits every row once, in order, ties included (many rows share a creation time); page numbers and cursors
agree; a cursor that is not one is the first page on the web and a 422 naming `after` in the API; the
COUNT reads the listed table alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.listing import LAST, ListQuery, decode_cursor, encode_cursor, paginate
from app.extensions import db
from app.files.models import CandidateFile
from tests.factories import make_assessor, make_establishment, make_session, make_user
from tests.stats.test_query_counts import add_files, count_queries

N = 57


@pytest.fixture
def files(app_ctx, today_is):
    """N files; their creation times in 5 groups of equal values (ties), ids interleaved with the times."""
    from datetime import date

    today_is("2026-01-12")
    world = {"establishment": make_establishment(), "assessor": make_assessor(until=date(2026, 6, 1)),
             "session": make_session(on=date(2026, 3, 1), capacity=1000)}
    add_files(N, **world)
    ids = list(db.session.scalars(select(CandidateFile.id).order_by(CandidateFile.id)))
    base = datetime(2026, 1, 5, 10, 0)
    for i, file_id in enumerate(ids):
        db.session.execute(update(CandidateFile).where(CandidateFile.id == file_id)
                           .values(created_at=base + timedelta(minutes=(i * 7) % 5)))
    db.session.commit()
    expected = [row.id for row in db.session.execute(
        select(CandidateFile.id).order_by(CandidateFile.created_at.desc(), CandidateFile.id.desc()))]
    return expected


def _page(**kwargs):
    stmt = select(CandidateFile).order_by(CandidateFile.created_at.desc(), CandidateFile.id.desc())
    query = ListQuery(per_page=kwargs.pop("per_page", 10), direction="desc", **kwargs)
    return paginate(stmt, query, scalars=True, keys=(CandidateFile.created_at, CandidateFile.id),
                    count_from=CandidateFile.__table__)


def test_the_cursor_round_trips_dates_times_texts_and_numbers():
    from datetime import date

    values = [datetime(2026, 1, 5, 10, 0, 0, 123), date(2026, 2, 1), "Lefèvre", 42, None]
    assert decode_cursor(encode_cursor(values), 5) == values


@pytest.mark.parametrize("per_page", [1, 7, 10, 57, 100])
def test_following_next_visits_every_row_once_in_order(files, per_page):
    seen, page = [], _page(per_page=per_page)
    assert page.total == N and page.numbered
    while True:
        seen += [f.id for f in page.items]
        if not page.has_next:
            break
        page = _page(per_page=per_page, after=page.next_cursor)
        assert page.total == N and not page.numbered
    assert seen == files


@pytest.mark.parametrize("per_page", [1, 10, 25])
def test_following_previous_from_the_last_page_visits_every_row_once(files, per_page):
    pages, page = [], _page(per_page=per_page, before=LAST)
    while True:
        pages.insert(0, [f.id for f in page.items])
        if not page.has_prev:
            break
        page = _page(per_page=per_page, before=page.prev_cursor)
    assert [i for chunk in pages for i in chunk] == files
    # Pages read backward are aligned on the end: the last one full, the first one the remainder.
    assert len(pages[-1]) == per_page and len(pages[0]) == (N % per_page or per_page)


def test_a_page_by_number_and_the_same_page_by_cursor_agree(files):
    by_number = [_page(page=p) for p in (1, 2, 3)]
    assert [f.id for f in by_number[1].items] == [f.id for f in _page(after=by_number[0].next_cursor).items]
    assert [f.id for f in by_number[2].items] == [f.id for f in _page(after=by_number[1].next_cursor).items]
    back = _page(before=_page(after=by_number[1].next_cursor).prev_cursor)
    assert [f.id for f in back.items] == [f.id for f in by_number[1].items]


def test_a_deep_page_by_cursor_has_no_offset_and_the_count_reads_candidate_files_alone(files):
    first = _page()
    with count_queries() as statements:
        _page(after=first.next_cursor)
    assert len(statements) >= 2
    count, rows = statements[0], statements[1]
    assert "count(*)" in count.lower() and " join " not in count.lower()
    assert "(candidate_files.created_at, candidate_files.id) <" in " ".join(rows.split())
    if db.engine.dialect.name == "postgresql":  # SQLite writes « LIMIT ? OFFSET ? » with an offset of 0
        assert "OFFSET" not in rows.upper()


def test_a_page_reads_its_keys_on_the_listed_table_alone_then_its_rows_by_id_in_the_keys_order(files):
    """The joins and loads of the rows are planned over the page's ids only (PostgreSQL weighs every join
    order against every ordered index of the listed table otherwise)."""
    from sqlalchemy.orm import joinedload

    stmt = select(CandidateFile).options(joinedload(CandidateFile.candidate), joinedload(CandidateFile.cqp))
    query = ListQuery(per_page=10, direction="desc")
    with count_queries() as statements:
        page = paginate(stmt, query, scalars=True, keys=(CandidateFile.created_at, CandidateFile.id),
                        count_from=CandidateFile.__table__)
    assert [f.id for f in page.items] == files[:10]
    assert len(statements) == 3
    keys, rows = (" ".join(s.split()).lower() for s in statements[1:])
    assert keys.startswith("select candidate_files.created_at, candidate_files.id from candidate_files ")
    assert " join " not in keys and "order by candidate_files.created_at desc" in keys
    assert " join " in rows and "candidate_files.id in (" in rows and "order by" not in rows
    after = paginate(stmt, replace(query, after=page.next_cursor), scalars=True,
                     keys=(CandidateFile.created_at, CandidateFile.id), count_from=CandidateFile.__table__)
    assert [f.id for f in after.items] == files[10:20]


@pytest.fixture
def remembered_counts(monkeypatch):
    from app.core import listing

    listing._remembered_counts.clear()
    yield listing
    listing._remembered_counts.clear()


def test_a_long_list_count_is_remembered_a_while_and_a_short_one_counted_every_time(files, remembered_counts):
    listing, keys = remembered_counts, (CandidateFile.created_at, CandidateFile.id)
    open_files = select(CandidateFile).where(CandidateFile.status != "abandonne")

    def page(per_page=25):
        return paginate(open_files, ListQuery(per_page=per_page), scalars=True, keys=keys,
                        count_from=CandidateFile.__table__)

    def withdraw(file_id):
        db.session.execute(update(CandidateFile).where(CandidateFile.id == file_id).values(status="abandonne"))

    counted = db.session.scalar(select(func.count()).select_from(open_files.subquery()))
    assert page().total == counted and not listing._remembered_counts  # below REMEMBERED_COUNT_FROM
    withdraw(files[0])
    assert page().total == counted - 1  # counted again
    saved, listing.REMEMBERED_COUNT_FROM = listing.REMEMBERED_COUNT_FROM, 1
    try:
        assert page().total == counted - 1
        withdraw(files[1])
        remembered = page(per_page=100)
        assert remembered.total == counted - 1 and len(remembered.items) == counted - 2  # rows read live
        listing._remembered_counts.clear()  # as REMEMBERED_COUNT_SECONDS later
        assert page().total == counted - 2
    finally:
        listing.REMEMBERED_COUNT_FROM = saved


def test_remembered_counts_of_the_same_filter_with_other_values_are_kept_apart(files, remembered_counts):
    """The remembered count's key is the statement's cache key and its bound values: a filter on another value
    (another status) is counted for itself, never given the first one's total."""
    listing, keys = remembered_counts, (CandidateFile.created_at, CandidateFile.id)
    db.session.execute(update(CandidateFile).where(CandidateFile.id.in_(files[:3])).values(status="abandonne"))
    expected = dict(db.session.execute(select(CandidateFile.status, func.count()).group_by(CandidateFile.status)).all())
    assert len(expected) >= 2 and len(set(expected.values())) >= 2
    saved, listing.REMEMBERED_COUNT_FROM = listing.REMEMBERED_COUNT_FROM, 1
    try:
        for status in [*expected, *expected]:  # the second round reads the remembered counts
            stmt = select(CandidateFile).where(CandidateFile.status == status)
            page = paginate(stmt, ListQuery(per_page=5), scalars=True, keys=keys, count_from=CandidateFile.__table__)
            assert page.total == expected[status], status
        assert sorted(total for _until, total in listing._remembered_counts.values()) == sorted(expected.values())
    finally:
        listing.REMEMBERED_COUNT_FROM = saved


def test_the_web_list_follows_its_links_and_a_forged_cursor_is_the_first_page(files, app, client):
    from tests.conftest import login
    from tests.factories import PASSWORD

    secretariat = make_user("secretariat")
    assert login(client, secretariat.email, PASSWORD).status_code == 302
    seen, url = [], "/statistiques/dossiers?per_page=10"
    for _ in range(20):
        html = client.get(url).get_data(as_text=True)
        seen += [int(x) for x in _file_numbers(html)]
        nxt = _link(html, "next")
        if nxt is None:
            break
        url = nxt
    assert seen == files
    forged = client.get("/statistiques/dossiers?per_page=10&apres=pas-un-curseur")
    assert forged.status_code == 200
    assert _file_numbers(forged.get_data(as_text=True)) == [str(i) for i in files[:10]]


def test_the_api_pages_by_after_and_refuses_a_forged_cursor(files, api_as):
    api = api_as(make_user("secretariat"))
    seen, answer = [], api.get("/files?per_page=20").json
    assert (answer["total"], answer["page"]) == (N, 1)
    while True:
        seen += [f["id"] for f in answer["items"]]
        if answer["next_after"] is None:
            break
        answer = api.get(f"/files?per_page=20&after={answer['next_after']}").json
        assert answer["page"] is None and answer["total"] == N
    assert seen == files
    refused = api.get("/files?after=pas-un-curseur")
    assert refused.status_code == 422
    assert "after" in refused.json["errors"], refused.json


def _file_numbers(html: str) -> list[str]:
    import re

    return re.findall(r'href="/dossiers/(\d+)"', html)


def _link(html: str, rel: str) -> str | None:
    import html as html_module
    import re

    match = re.search(rf'<a href="([^"]+)" rel="{rel}"', html)
    return html_module.unescape(match.group(1)) if match else None
