"""The jury pages: secretariat calendar and decisions, company registration, jury members, prints."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from app.extensions import db
from app.files.models import FileStatus
from app.jury import decisions, sessions
from app.jury.models import PrintRecord
from tests.conftest import submit_form
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import count_statements, decide, make_file


@pytest.fixture(autouse=True)
def _today(today_is, app_ctx):
    today_is("2027-05-01")


def test_secretariat_creates_a_session(secretariat, client, login_as):
    member = make_user("jury", last_name="Jurémembre")
    login_as(secretariat)
    response = submit_form(client, "/secretariat/jurys/nouvelle", {
        "date": "2027-06-15", "capacity": "25", "location": "Paris", "member_ids": [str(member.id)]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jury du 15 juin 2027" in page and "25 mai 2027" in page and "Jurémembre" in page
    listing = client.get("/secretariat/jurys").get_data(as_text=True)
    assert "15 juin 2027" in listing and "Ouverte" in listing


@pytest.mark.parametrize(("data", "message"), [
    ({"date": "2027-04-30", "capacity": "10"}, "ne peut pas être passée"),
    ({"date": "2027-06-15", "capacity": "0"}, "entre 1 et 10 000"),
    ({"date": "", "capacity": "10"}, "La date du jury est obligatoire."),
])
def test_bad_session_input_is_refused_with_a_french_message(secretariat, client, login_as, data, message):
    login_as(secretariat)
    response = submit_form(client, "/secretariat/jurys/nouvelle", {"location": "Lyon", **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'value="Lyon"' in html
    assert sessions.list_sessions() == []


def test_capacity_below_the_seats_taken_is_refused_on_the_edit_page(secretariat, client, login_as):
    jury_session = make_session(on=date(2027, 6, 15), capacity=10, seats_taken=6)
    login_as(secretariat)
    response = submit_form(client, f"/secretariat/jurys/{jury_session.id}/modifier",
                           {"date": "2027-06-15", "capacity": "5"})
    assert response.status_code == 422 and "places déjà prises (6)" in response.get_data(as_text=True)


def test_company_registers_a_file_and_is_told_it_was_rolled_over(client, login_as):
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    file = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment)
    full = make_session(on=date(2027, 6, 15), capacity=1, seats_taken=1)
    later = make_session(on=date(2027, 9, 15), capacity=5)
    login_as(company)
    url = f"/entreprise/dossiers/{file.id}/jury"
    assert "21 jours" in client.get(url).get_data(as_text=True)
    response = submit_form(client, url, {"jury_session_id": str(full.id)}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "complète ou close" in html and "15 septembre 2027" in html
    db.session.refresh(file)
    assert file.jury_session_id == later.id and file.rolled_over
    response = submit_form(client, f"{url}/desinscription", {}, form_url=url, follow_redirects=True)
    assert "la place est libérée" in response.get_data(as_text=True)
    db.session.refresh(later)
    assert later.seats_taken == 0


def test_company_without_open_session_gets_a_clear_refusal(client, login_as):
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    file = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment)
    make_session(on=date(2027, 6, 15), capacity=1, seats_taken=1)
    login_as(company)
    response = submit_form(client, f"/entreprise/dossiers/{file.id}/jury", {"jury_session_id": ""})
    assert response.status_code == 422 and "Aucune session de jury ouverte" in response.get_data(as_text=True)
    db.session.refresh(file)
    assert file.status == "validation_evaluation"


def test_another_companys_file_does_not_exist(client, login_as):
    file = make_file(FileStatus.VALIDATION_EVALUATION)
    login_as(make_user("entreprise"))
    assert client.get(f"/entreprise/dossiers/{file.id}/jury").status_code == 404
    assert client.get(f"/dossiers/{file.id}/parchemin.pdf").status_code == 404


def test_session_decision_screen_saves_a_row_and_lists_what_is_undecided(secretariat, client, login_as, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    first = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    second = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}/decisions"
    today_is("2027-06-14")
    html = client.get(url).get_data(as_text=True)
    assert "à partir de la date du jury" in html and "Reste à décider : 2 dossiers sur 2" in html
    today_is("2027-06-15")
    c1, c2, c3 = first.competences
    data = {f"f{first.id}-c_{c1.id}": "validee", f"f{first.id}-c_{c2.id}": "non_validee",
            f"f{first.id}-c_{c3.id}": "validee", f"f{first.id}-comment": "Bon dossier"}
    response = submit_form(client, f"{url}/{first.id}", data, form_url=url, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Décision enregistrée" in html and "Reste à décider : 1 dossier sur 2" in html
    assert f'href="#dossier-{second.id}"' in html and f'href="#dossier-{first.id}"' not in html
    db.session.refresh(first)
    assert first.status == "partiel"
    assert [r.validated for r in sorted(first.decision.results, key=lambda r: r.competence.position)] \
        == [True, False, True]


def test_decision_before_the_jury_date_is_refused_on_the_file_form(secretariat, client, login_as):
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    login_as(secretariat)
    url = f"/secretariat/dossiers/{file.id}/decision"
    response = submit_form(client, url, {f"c_{c.id}": "validee" for c in file.competences})
    assert response.status_code == 422 and "15/06/2027" in response.get_data(as_text=True)
    db.session.refresh(file)
    assert file.status == "inscription_jury"


def test_publication_then_batch_print_then_marked_sent(secretariat, client, login_as, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(2)]
    today_is("2027-06-15")
    decide(files[0], secretariat, True)
    decide(files[1], secretariat, False)
    db.session.commit()
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}"
    response = submit_form(client, f"{url}/publier", {}, form_url=url, follow_redirects=True)
    assert "Résultats publiés" in response.get_data(as_text=True)
    pdf = submit_form(client, f"{url}/parchemins.pdf", {}, form_url=url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    [record] = db.session.query(PrintRecord).all()
    assert record.parchment.file_id == files[0].id and record.sent_at is None
    page = client.get(url).get_data(as_text=True)
    action = re.search(r'action="([^"]+/envoye)"', page).group(1)
    submit_form(client, action, {}, form_url=url)
    db.session.refresh(record)
    assert record.sent_at is not None
    assert "Envoyé le" in client.get(url).get_data(as_text=True)


def test_company_downloads_its_parchment_only_once_published(secretariat, client, login_as, today_is):
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, establishment=establishment)
    today_is("2027-06-15")
    decide(file, secretariat, True)
    db.session.commit()
    login_as(company)
    assert client.get(f"/dossiers/{file.id}/parchemin.pdf").status_code == 409
    decisions.publish_session(jury_session, secretariat)
    db.session.commit()
    response = client.get(f"/dossiers/{file.id}/parchemin.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_jury_member_sees_the_files_of_their_sessions_only(client, login_as):
    member = make_user("jury")
    mine = make_session(on=date(2027, 6, 15))
    mine.members.append(member)
    other = make_session(on=date(2027, 7, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=mine)
    db.session.commit()
    login_as(member)
    assert "15 juin 2027" in client.get("/jury/sessions").get_data(as_text=True)
    page = client.get(f"/jury/sessions/{mine.id}").get_data(as_text=True)
    assert file.candidate.full_name in page and "Maîtrisé au poste." in page and "Acquis." in page
    assert "(guide.pdf)" in page and f"/dossiers/{file.id}/documents/" in page
    booklet = client.get(f"/jury/sessions/{mine.id}/livret.pdf")
    assert booklet.status_code == 200 and booklet.data.startswith(b"%PDF")
    assert client.get(f"/jury/sessions/{other.id}").status_code == 404
    assert client.get(f"/jury/sessions/{other.id}/livret.pdf").status_code == 404


@pytest.mark.parametrize(("role", "url"), [
    ("entreprise", "/secretariat/jurys"), ("jury", "/secretariat/jurys/nouvelle"),
    ("evaluateur", "/jury/sessions"), ("candidat", "/entreprise/jurys"),
])
def test_other_roles_are_refused(app_ctx, client, login_as, role, url):
    login_as(make_user(role))
    assert client.get(url).status_code == 403


def test_after_publication_the_file_form_rectifies_with_a_reason(secretariat, client, login_as, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    today_is("2027-06-15")
    decide(file, secretariat, [True, False, True])
    decisions.publish_session(jury_session, secretariat)
    db.session.commit()
    login_as(secretariat)
    url = f"/secretariat/dossiers/{file.id}/decision"
    assert "Rectifier la décision" in client.get(url).get_data(as_text=True)
    all_valid = {f"c_{c.id}": "validee" for c in file.competences}
    refused = submit_form(client, url, all_valid)
    assert refused.status_code == 422 and "motif de la rectification est obligatoire" in refused.get_data(as_text=True)
    done = submit_form(client, url, {**all_valid, "reason": "Erreur de report"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Décision enregistrée : Validé" in html and "Erreur de report" in html and "Partiel" in html


# ---------------------------------------------------------------- refusals go back to the page, links between areas


def test_a_refused_action_flashes_its_reason_and_goes_back(secretariat, client, login_as, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}"
    response = submit_form(client, f"{url}/publier", {}, form_url=url)
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "à partir de sa date (15/06/2027)" in page
    db.session.refresh(jury_session)
    assert jury_session.published_at is None


def test_cancelling_from_the_page_moves_the_files_then_cannot_be_done_twice(secretariat, client, login_as):
    jury_session = make_session(on=date(2027, 6, 15))
    make_session(on=date(2027, 9, 15))
    make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}"
    done = submit_form(client, f"{url}/annuler", {"reason": "Salle indisponible"}, form_url=url, follow_redirects=True)
    assert "1 dossier reporté" in done.get_data(as_text=True)
    again = client.post(f"{url}/annuler", data={"csrf_token": re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)})
    assert again.status_code == 303
    assert "déjà annulée" in client.get(url).get_data(as_text=True)


def test_unregistering_after_the_deadline_is_refused_on_the_page(client, login_as, today_is):
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, establishment=establishment)
    login_as(company)
    url = f"/entreprise/dossiers/{file.id}/jury"
    form_page = client.get(url).get_data(as_text=True)
    assert "Désinscrire du jury" in form_page and f'href="/dossiers/{file.id}"' in form_page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form_page).group(1)
    today_is("2027-05-26")
    response = client.post(f"{url}/desinscription", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "plus possible depuis le 25/05/2027" in page and "ne peut plus être désinscrit" in page
    db.session.refresh(file)
    assert file.status == "inscription_jury"


def test_an_unknown_print_batch_is_refused(secretariat, client, login_as):
    jury_session = make_session(on=date(2027, 6, 15))
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}"
    response = submit_form(client, f"{url}/lots/inconnu/envoye", {}, form_url=url, follow_redirects=True)
    assert "Ce lot d'impression n'existe pas." in unescape(response.get_data(as_text=True))
    printed = submit_form(client, f"{url}/parchemins.pdf", {}, form_url=url, follow_redirects=True)
    assert "Aucun parchemin ni attestation à imprimer" in printed.get_data(as_text=True)


def test_a_parchment_that_is_not_there_is_a_409_page(secretariat, client, login_as, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    today_is("2027-06-15")
    decide(file, secretariat, False)
    db.session.commit()
    login_as(secretariat)
    response = client.get(f"/dossiers/{file.id}/parchemin.pdf")
    assert response.status_code == 409 and "Aucun parchemin pour ce dossier" in response.get_data(as_text=True)


def test_the_secretariat_reads_the_jurys_page_and_goes_back_to_the_session(secretariat, client, login_as):
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    login_as(secretariat)
    page = client.get(f"/jury/sessions/{jury_session.id}").get_data(as_text=True)
    assert f'href="/secretariat/jurys/{jury_session.id}">← Retour' in page and file.candidate.full_name in page
    detail = client.get(f"/secretariat/jurys/{jury_session.id}").get_data(as_text=True)
    assert f'<a href="/dossiers/{file.id}">{file.candidate.full_name}</a>' in detail
    decision_page = client.get(f"/secretariat/dossiers/{file.id}/decision").get_data(as_text=True)
    assert f'<a href="/dossiers/{file.id}">← Dossier de' in decision_page and "Enregistrer la décision" in decision_page


def test_a_jury_member_goes_back_to_their_sessions(client, login_as):
    member = make_user("jury")
    jury_session = make_session(on=date(2027, 6, 15))
    jury_session.members.append(member)
    db.session.commit()
    login_as(member)
    page = client.get(f"/jury/sessions/{jury_session.id}").get_data(as_text=True)
    assert 'href="/jury/sessions">← Retour' in page


def test_a_file_not_registered_has_no_decision_form(secretariat, client, login_as):
    file = make_file(FileStatus.VALIDATION_EVALUATION)
    login_as(secretariat)
    page = client.get(f"/secretariat/dossiers/{file.id}/decision").get_data(as_text=True)
    assert "inscrit à aucune session de jury" in page and "Enregistrer la décision" not in page


# ---------------------------------------------------------------- bounded queries: 3 files or 300, the same statements


@pytest.fixture
def sized_sessions(app, today_is):
    """A session of 3 files and one of 300, a member sitting on both, clients logged in."""
    from tests.conftest import login
    from tests.factories import PASSWORD, make_assessor
    from tests.jury.helpers import add_session_files

    today_is("2027-06-15")
    secretariat, member = make_user("secretariat"), make_user("jury")
    establishment, assessor = make_establishment(), make_assessor()
    sized = {}
    for n, day in ((3, 15), (300, 16)):
        jury_session = make_session(on=date(2027, 6, day), capacity=1)
        jury_session.members.append(member)
        db.session.commit()
        add_session_files(jury_session, n, establishment=establishment, assessor=assessor)
        sized[n] = jury_session.id
    clients = {"secretariat": app.test_client(), "jury": app.test_client()}
    for role, user in (("secretariat", secretariat), ("jury", member)):
        assert login(clients[role], user.email, PASSWORD).status_code == 302
    return sized, clients


@pytest.mark.parametrize(("role", "url", "shown", "per_page", "most"), [
    # the session's page: its files as plain rows in one statement (app/jury/session_page.py)
    ("secretariat", "/secretariat/jurys/{}", 'href="/secretariat/dossiers/', None, 6),
    # the decision screen shows its files by pages of 50 (app/jury/decision_rows.py)
    ("secretariat", "/secretariat/jurys/{}/decisions", '<tr id="dossier-', 50, 6),
    ("jury", "/jury/sessions/{}", '<section class="card" id="dossier-', None, 30),
])
def test_a_sessions_pages_send_the_same_statements_for_3_and_300_files(sized_sessions, role, url, shown,
                                                                       per_page, most):
    sized, clients = sized_sessions
    counts = {}
    for n, session_id in sized.items():
        db.session.expire_all()
        with count_statements() as statements:
            response = clients[role].get(url.format(session_id))
        assert response.status_code == 200
        assert response.get_data(as_text=True).count(shown) == min(n, per_page or n)
        counts[n] = len(statements)
    assert counts[3] == counts[300] <= most, counts


def test_the_booklet_sends_the_same_statements_for_3_and_300_files(sized_sessions, monkeypatch):
    """Every statement is sent while the booklet's HTML renders; WeasyPrint's layout, which sends none
    and takes most of a minute for 300 files, is left out here (the real PDF is checked above)."""
    sized, clients = sized_sessions
    rendered: list[str] = []

    class LayoutLeftOut:
        def __init__(self, string: str, base_url: str):
            rendered.append(string)

        def write_pdf(self) -> bytes:
            return b"%PDF-"

    monkeypatch.setattr("app.jury.pdf.HTML", LayoutLeftOut)
    counts = {}
    for n, session_id in sized.items():
        db.session.expire_all()
        with count_statements() as statements:
            response = clients["jury"].get(f"/jury/sessions/{session_id}/livret.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert rendered[-1].count('<section class="file">') == n
        counts[n] = len(statements)
    assert counts[3] == counts[300] <= 30, counts


def test_publish_shows_only_when_possible_else_the_reason(secretariat, client, login_as, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(3)]
    db.session.commit()
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Publier les résultats</button>" not in page and "à partir de la date du jury, le 15/06/2027" in page
    today_is("2027-06-15")
    decide(files[0], secretariat, True)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Publier les résultats</button>" not in page and "2 dossiers sans décision" in page
    decide(files[1], secretariat, True)
    db.session.commit()
    assert "1 dossier sans décision" in client.get(url).get_data(as_text=True)
    decide(files[2], secretariat, [True, False, False])
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Publier les résultats</button>" in page and "sans décision" not in page
    assert "3 documents à imprimer · 0 imprimé · 0 envoyé" in " ".join(page.split())
    submit_form(client, f"{url}/publier", {}, form_url=url)
    page = client.get(url).get_data(as_text=True)
    assert "Publier les résultats</button>" not in page and "Résultats déjà publiés le" in page
    submit_form(client, f"{url}/parchemins.pdf", {}, form_url=url)
    page = " ".join(client.get(url).get_data(as_text=True).split())
    assert "Aucun document à imprimer · 3 imprimés · 0 envoyé" in page and "Réimprimer toute la session" in page
    again = submit_form(client, f"{url}/parchemins.pdf", {}, form_url=url, follow_redirects=True)
    assert "déjà imprimés" in again.get_data(as_text=True) and db.session.query(PrintRecord).count() == 3
    reprint = submit_form(client, f"{url}/reimpression.pdf", {}, form_url=url)
    assert reprint.data.startswith(b"%PDF") and db.session.query(PrintRecord).count() == 6
    assert "Réimpression" in client.get(url).get_data(as_text=True)


def test_a_cancelled_session_says_it_cannot_be_published(secretariat, client, login_as):
    jury_session = make_session(on=date(2027, 6, 15))
    sessions.cancel_session(jury_session, secretariat)
    db.session.commit()
    login_as(secretariat)
    page = client.get(f"/secretariat/jurys/{jury_session.id}").get_data(as_text=True)
    assert "Session annulée : ses résultats ne peuvent pas être publiés." in page


def test_creating_a_session_past_its_deadline_asks_for_confirmation(secretariat, client, login_as):
    login_as(secretariat)
    data = {"date": "2027-05-10", "capacity": "10", "location": "Lyon"}
    refused = submit_form(client, "/secretariat/jurys/nouvelle", data)
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "date limite d'inscription de cette session (19/04/2027" in html
    assert 'name="confirm_past_deadline"' in html
    done = submit_form(client, "/secretariat/jurys/nouvelle", {**data, "confirm_past_deadline": "y"},
                       follow_redirects=True)
    assert done.status_code == 200 and "Session du 10/05/2027 créée" in unescape(done.get_data(as_text=True))


# ---------------------------------------------------------------- the decision screen: explicit choices, bulk actions


@pytest.fixture
def decision_day(secretariat, client, login_as, today_is):
    """Three registered files of a session held today, the secretariat on its decision screen."""
    jury_session = make_session(on=date(2027, 6, 15))
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(3)]
    today_is("2027-06-15")
    login_as(secretariat)
    return jury_session, files, f"/secretariat/jurys/{jury_session.id}/decisions"


def _choices(file, values) -> dict:
    return {f"f{file.id}-c_{c.id}": v for c, v in zip(file.competences, values, strict=True)}


def test_the_screen_offers_a_choice_per_competence_with_nothing_chosen(decision_day, client):
    jury_session, files, url = decision_day
    html = client.get(url).get_data(as_text=True)
    competence = files[0].competences[0]
    assert html.count(f'name="f{files[0].id}-c_{competence.id}" ') == 2  # Validée, Non validée
    assert 'value="validee" checked' not in html and "Évaluation : acquis" in html
    assert competence.title in html


def test_an_empty_save_is_refused_naming_each_competence(decision_day, client):
    jury_session, files, url = decision_day
    first = files[0]
    response = submit_form(client, f"{url}/{first.id}", {}, form_url=url)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    codes = [c.code for c in first.competences]
    assert f"compétences {codes[0]}, {codes[1]} et {codes[2]} : rien n'est enregistré" in html
    assert all(f"{code} : aucune décision choisie" in html for code in codes)
    db.session.refresh(first)
    assert first.status == "inscription_jury" and first.decision is None


def test_a_whole_file_not_validated_is_confirmed_on_its_row(decision_day, client):
    jury_session, files, url = decision_day
    first = files[0]
    data = _choices(first, ["non_validee"] * 3)
    asked = submit_form(client, f"{url}/{first.id}", data, form_url=url)
    assert asked.status_code == 422 and "Je confirme" in unescape(asked.get_data(as_text=True))
    db.session.refresh(first)
    assert first.decision is None
    done = submit_form(client, f"{url}/{first.id}", {**data, f"f{first.id}-confirm_non_valide": "y"}, form_url=url)
    assert done.status_code == 302
    db.session.refresh(first)
    assert first.status == "non_valide"


def test_save_all_saves_the_changed_rows_and_reports_the_refused_ones(decision_day, client):
    jury_session, (first, second, third), url = decision_day
    data = {**_choices(first, ["validee", "validee", "non_validee"]),
            **{k: v for k, v in list(_choices(second, ["validee"] * 3).items())[:2]}}
    response = submit_form(client, f"{url}/tout", data, form_url=url)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Enregistrer tout : 1 décision enregistrée, 1 dossier refusé" in html
    assert f"compétence {second.competences[2].code} :" in html and third.candidate.full_name in html.split("Laissés sans décision")[1]
    for f in (first, second, third):
        db.session.refresh(f)
    assert (first.status, second.status, third.status) == ("partiel", "inscription_jury", "inscription_jury")
    assert second.decision is None


def test_save_all_leaves_an_unchanged_decision_alone(decision_day, client, secretariat):
    jury_session, (first, second, third), url = decision_day
    decide(first, secretariat, [True, True, True])
    db.session.commit()
    history = len(first.history)
    response = submit_form(client, f"{url}/tout", _choices(first, ["validee"] * 3), form_url=url)
    assert "0 décision enregistrée" in unescape(response.get_data(as_text=True))
    db.session.refresh(first)
    assert len(first.history) == history


def test_decide_as_evaluated_for_the_ticked_files(decision_day, client, secretariat):
    jury_session, (first, second, third), url = decision_day
    decide(third, secretariat, [True, False, True])
    db.session.commit()
    response = submit_form(client, f"{url}/conforme", {"file_ids": [str(first.id), str(third.id)]}, form_url=url)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Décider conforme à l'évaluation : 1 décision enregistrée, 1 dossier refusé" in html
    assert "déjà décidé" in html
    for f in (first, second, third):
        db.session.refresh(f)
    assert (first.status, second.status, third.status) == ("valide", "inscription_jury", "partiel")


def test_decide_as_evaluated_needs_a_ticked_file_and_refuses_bad_ids(decision_day, client):
    jury_session, files, url = decision_day
    nothing = submit_form(client, f"{url}/conforme", {}, form_url=url, follow_redirects=True)
    assert "cochez au moins un dossier" in unescape(nothing.get_data(as_text=True))
    bad = submit_form(client, f"{url}/conforme", {"file_ids": "abc"}, form_url=url, follow_redirects=True)
    assert "identifiant de dossier n'est pas valide" in unescape(bad.get_data(as_text=True))


def test_an_evaluation_concluding_not_acquired_everywhere_is_not_decided_in_bulk(decision_day, client):
    jury_session, (first, *_), url = decision_day
    for result in first.evaluation.results:
        result.acquired = False
    db.session.commit()
    response = submit_form(client, f"{url}/conforme", {"file_ids": str(first.id)}, form_url=url)
    assert response.status_code == 422 and "se confirme sur la ligne" in unescape(response.get_data(as_text=True))
    db.session.refresh(first)
    assert first.status == "inscription_jury"


# ---------------------------------------------------------------- several files registered from the list


def test_the_company_registers_several_files_from_its_list(client, login_as):
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    ready = [make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment) for _ in range(2)]
    waiting = make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=establishment)
    asked = make_session(on=date(2027, 6, 15), capacity=1)
    later = make_session(on=date(2027, 9, 15), capacity=5)
    login_as(company)
    listing = client.get("/dossiers").get_data(as_text=True)
    assert all(f'name="file_ids" value="{f.id}"' in listing for f in ready)
    assert f'name="file_ids" value="{waiting.id}"' not in listing and "Inscrire au jury" in listing
    ids = [str(f.id) for f in ready]
    step = submit_form(client, "/entreprise/dossiers/inscription-jury", {"file_ids": ids}, form_url="/dossiers")
    html = unescape(step.get_data(as_text=True))
    assert step.status_code == 200 and "Inscrire 2 dossiers au jury" in html and "Session de jury souhaitée" in html
    done = submit_form(client, "/entreprise/dossiers/inscription-jury",
                       {"file_ids": ids, "jury_session_id": str(asked.id), "confirm": "y"}, form_url="/dossiers")
    html = unescape(done.get_data(as_text=True))
    assert done.status_code == 200 and "2 dossiers inscrits sur 2" in html
    assert "session du 15 juin 2027" in html and "session du 15 septembre 2027" in html and "complète ou close" in html
    for f in ready:
        db.session.refresh(f)
    assert {f.jury_session_id for f in ready} == {asked.id, later.id}


def test_registering_several_refuses_what_cannot_be_and_another_tenants_files(client, login_as):
    establishment = make_establishment()
    company = make_user("entreprise", establishment=establishment)
    other = make_file(FileStatus.VALIDATION_EVALUATION)
    mine = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment)
    make_session(on=date(2027, 6, 15), capacity=1, seats_taken=1)
    login_as(company)
    url = "/entreprise/dossiers/inscription-jury"
    nothing = submit_form(client, url, {"file_ids": str(other.id)}, form_url="/dossiers", follow_redirects=True)
    assert "cochez au moins un dossier" in unescape(nothing.get_data(as_text=True))
    refused = submit_form(client, url, {"file_ids": str(mine.id), "confirm": "y"}, form_url="/dossiers")
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "1 dossier non inscrit" in html and "Aucune session de jury ouverte" in html
    bad = submit_form(client, url, {"file_ids": "x", "confirm": "y"}, form_url="/dossiers", follow_redirects=True)
    assert "identifiant de dossier n'est pas valide" in unescape(bad.get_data(as_text=True))
    db.session.refresh(mine)
    assert mine.status == "validation_evaluation"


def test_the_file_decision_page_refuses_an_empty_save_and_confirms_a_whole_non_valide(decision_day, client):
    jury_session, (first, *_), _ = decision_day
    url = f"/secretariat/dossiers/{first.id}/decision"
    page = unescape(client.get(url).get_data(as_text=True))
    assert "Évaluateur : acquis" in page and "checked" not in page.split("<form")[1].split("Commentaire du jury")[0]
    empty = submit_form(client, url, {})
    html = unescape(empty.get_data(as_text=True))
    assert empty.status_code == 422 and "error-summary" in html
    assert all(f'href="#c_{c.id}"' in html for c in first.competences)
    nothing = {f"c_{c.id}": "non_validee" for c in first.competences}
    asked = submit_form(client, url, nothing)
    assert asked.status_code == 422 and "Cochez « Je confirme »" in unescape(asked.get_data(as_text=True))
    done = submit_form(client, url, {**nothing, "confirm_non_valide": "y"})
    assert done.status_code == 302
    db.session.refresh(first)
    assert first.status == "non_valide"
