"""The decision screen by pages (app/jury/decision_rows.py): 50 files a page in id order (keyset), the filter
« à décider / décidés / tous » with its counts, « Enregistrer tout » saving the rows of the page shown, and
every form and redirect keeping the page."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from app.extensions import db
from app.files.models import CandidateFile, FileStatus
from app.jury.decision_rows import PAGE_SIZE
from tests.conftest import submit_form
from tests.factories import make_session
from tests.jury.helpers import add_session_files


@pytest.fixture
def big_session(secretariat, client, login_as, today_is):
    """120 files of a session held today, every fourth one still to decide (30), the secretariat logged in."""
    today_is("2027-06-15")
    jury_session = make_session(on=date(2027, 6, 15), capacity=200)
    ids = sorted(add_session_files(jury_session, 120))
    db.session.commit()
    login_as(secretariat)
    return jury_session, ids, f"/secretariat/jurys/{jury_session.id}/decisions"


def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="dossier-(\d+)"', html)]


def _undecided(ids: list[int]) -> list[int]:
    return [i for i in ids if db.session.get(CandidateFile, i).status == FileStatus.INSCRIPTION_JURY.value]


def _choices(file_id: int, value: str = "validee") -> dict:
    file = db.session.get(CandidateFile, file_id)
    return {f"f{file.id}-c_{c.id}": value for c in file.competences}


def test_the_screen_shows_50_files_a_page_with_next_and_previous(big_session, client):
    jury_session, ids, url = big_session
    first = unescape(client.get(url).get_data(as_text=True))
    assert _rows(first) == ids[:PAGE_SIZE] and "Page précédente" not in first
    assert "Reste à décider : 30 dossiers sur 120" in first
    assert "À décider (30)" in first and "Décidés (90)" in first and "Tous (120)" in first
    following = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    assert following == f"{url}?apres={ids[PAGE_SIZE - 1]}"
    second = unescape(client.get(following).get_data(as_text=True))
    assert _rows(second) == ids[PAGE_SIZE:2 * PAGE_SIZE]
    last = unescape(client.get(re.search(r'href="([^"]+)" rel="next"', second).group(1)).get_data(as_text=True))
    assert _rows(last) == ids[2 * PAGE_SIZE:] and 'rel="next"' not in last
    back = re.search(r'href="([^"]+)" rel="prev"', last).group(1)
    assert back == f"{url}?avant={ids[2 * PAGE_SIZE]}"
    assert _rows(client.get(back).get_data(as_text=True)) == ids[PAGE_SIZE:2 * PAGE_SIZE]
    # before the second page: less than a full page is left, so the first page
    assert _rows(client.get(f"{url}?avant={ids[10]}").get_data(as_text=True)) == ids[:PAGE_SIZE]


def test_the_filter_shows_the_files_to_decide_or_decided(big_session, client):
    jury_session, ids, url = big_session
    undecided = _undecided(ids)
    html = client.get(f"{url}?etat=a_decider").get_data(as_text=True)
    assert _rows(html) == undecided and 'aria-current="page">À décider (30)' in unescape(html)
    decided = [i for i in ids if i not in undecided]
    html = client.get(f"{url}?etat=decides").get_data(as_text=True)
    assert _rows(html) == decided[:PAGE_SIZE]
    assert 'type="checkbox" name="file_ids"' not in html  # nothing there to decide as evaluated
    following = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    assert following == f"{url}?etat=decides&apres={decided[PAGE_SIZE - 1]}"
    second = client.get(following).get_data(as_text=True)
    assert _rows(second) == decided[PAGE_SIZE:]
    assert f'<a href="{url}?etat=decides">Première page</a>' in second


@pytest.mark.parametrize("query", ["?apres=abc", "?avant=-3", "?apres=99999999999", "?etat=n%27importe",
                                   "?avant=0&apres=", "?apres=%C2%B2", "?etat=tous&avant=%EF%BC%91"])
def test_an_unreadable_address_shows_the_first_page(big_session, client, query):
    jury_session, ids, url = big_session
    response = client.get(url + query)
    assert response.status_code == 200
    assert _rows(response.get_data(as_text=True)) in (ids[:PAGE_SIZE], [])


def test_save_all_saves_the_rows_of_the_page_shown_only(big_session, client):
    jury_session, ids, url = big_session
    undecided = _undecided(ids)
    on_first = next(i for i in undecided if i in ids[:PAGE_SIZE])
    on_second = next(i for i in undecided if i in ids[PAGE_SIZE:2 * PAGE_SIZE])
    page_url = f"{url}?apres={ids[PAGE_SIZE - 1]}"
    page = client.get(page_url).get_data(as_text=True)
    action = unescape(re.search(r'<form method="post" id="decisions" action="([^"]+)"', page).group(1))
    assert action == f"{url}/tout?apres={ids[PAGE_SIZE - 1]}"
    shown = re.search(r'name="lignes" value="([^"]*)"', page).group(1)
    assert shown.split() == [str(i) for i in ids[PAGE_SIZE:2 * PAGE_SIZE]]
    response = submit_form(client, action, {"lignes": shown, **_choices(on_first), **_choices(on_second)},
                           form_url=page_url)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Enregistrer tout : 1 décision enregistrée" in html
    assert _rows(html) == ids[PAGE_SIZE:2 * PAGE_SIZE]  # the same page, shown again
    db.session.expire_all()
    assert db.session.get(CandidateFile, on_second).status == "valide"
    assert db.session.get(CandidateFile, on_first).status == "inscription_jury"


def test_save_all_without_the_rows_field_saves_the_page_of_the_address(big_session, client):
    jury_session, ids, url = big_session
    on_first = _undecided(ids[:PAGE_SIZE])[0]
    on_second = _undecided(ids[PAGE_SIZE:2 * PAGE_SIZE])[0]
    response = submit_form(client, f"{url}/tout?apres={ids[PAGE_SIZE - 1]}",
                           {**_choices(on_first), **_choices(on_second)}, form_url=url)
    assert "1 décision enregistrée" in unescape(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(CandidateFile, on_second).status == "valide"
    assert db.session.get(CandidateFile, on_first).status == "inscription_jury"


def test_a_row_saved_goes_back_to_its_page_and_a_refused_one_is_shown_on_it(big_session, client):
    jury_session, ids, url = big_session
    target = _undecided(ids[PAGE_SIZE:])[0]
    query = f"?etat=a_decider&apres={_undecided(ids)[0]}"
    page = unescape(client.get(url + query).get_data(as_text=True))
    assert f'formaction="{url}/{target}{query}"' in page
    refused = submit_form(client, f"{url}/{target}{query}", {}, form_url=url + query)
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and 'class="row-refused"' in html and "aucune décision choisie" in html
    assert target in _rows(html)
    saved = submit_form(client, f"{url}/{target}{query}", _choices(target, "validee"), form_url=url + query)
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"{url}{query}#dossier-{target}")
    db.session.expire_all()
    assert db.session.get(CandidateFile, target).status == "valide"


def test_a_refused_row_keeps_what_was_typed_and_the_confirmation_asked(big_session, client):
    jury_session, ids, url = big_session
    target = _undecided(ids)[1]
    data = {**_choices(target, "non_validee"), f"f{target}-comment": "Rien d'acquis <b>encore</b>"}
    asked = submit_form(client, f"{url}/{target}", data, form_url=url)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 422 and f'name="f{target}-confirm_non_valide"' in html
    assert "Rien d&#39;acquis &lt;b&gt;encore&lt;/b&gt;</textarea>" in html
    assert html.count('value="non_validee" aria-describedby') and re.search(
        rf'name="f{target}-c_\d+" id="[^"]+" value="non_validee" aria-describedby="[^"]+" checked', html)
    too_long = submit_form(client, f"{url}/{target}", {**_choices(target), f"f{target}-comment": "x" * 4001},
                           form_url=url)
    assert too_long.status_code == 422
    assert "Commentaire du jury : 4 000 caractères au plus" in unescape(too_long.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(CandidateFile, target).decision is None


def test_a_post_without_its_token_is_refused_and_nothing_is_saved(big_session, client):
    jury_session, ids, url = big_session
    target = _undecided(ids)[0]
    for action in (f"{url}/{target}", f"{url}/tout"):
        response = client.post(action, data=_choices(target), follow_redirects=True)
        assert "Le formulaire a expiré" in unescape(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(CandidateFile, target).decision is None
