"""R14: a session's results are published only once its attendance shows JURY_MIN_PER_COLLEGE present members
in each college (salariés, employeurs) and a present president; the attendance is recorded by the
secretariat (web and API), refusing unknown emails and non-jury users; the minutes (procès-verbal) list the
members present by college, the president and every decision, for the secretariat and the session's members."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.files.models import FileStatus
from app.jury import decisions, minutes
from app.jury.attendance import Attendee, record_attendance
from tests.conftest import submit_form
from tests.factories import make_session, make_user
from tests.factories import record_attendance as attend
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)


@pytest.fixture
def held(secretariat, today_is):
    """A held session without attendance, one file decided valide."""
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY, location="Lyon", attendance=False)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    today_is(JURY_DAY)
    decide(file, secretariat, True)
    db.session.commit()
    return jury_session, file


def _jurors(count: int) -> list:
    return [make_user("jury") for _ in range(count)]


def _attendance(jury_session, salaries: int, employeurs: int, *, president: bool = True, absent: int = 0):
    members = [(u, "salaries", True) for u in _jurors(salaries)] + [(u, "employeurs", True) for u in _jurors(employeurs)]
    members += [(u, "employeurs", False) for u in _jurors(absent)]
    return attend(jury_session, members=members, president=president)


# ---------------------------------------------------------------- R14 at its edges


@pytest.mark.parametrize(("salaries", "employeurs", "president", "missing"), [
    (2, 2, True, []),
    (3, 2, True, []),
    (2, 0, True, ["collège des employeurs : 0 membre présent sur 2 requis"]),
    (0, 2, True, ["collège des salariés : 0 membre présent sur 2 requis"]),
    (1, 2, True, ["collège des salariés : 1 membre présent sur 2 requis"]),
    (2, 2, False, ["aucun président présent désigné"]),
    (0, 0, False, ["collège des salariés : 0 membre présent sur 2 requis",
                   "collège des employeurs : 0 membre présent sur 2 requis", "aucun président présent désigné"]),
])
def test_publication_needs_a_paritaire_jury_and_a_president(held, secretariat, salaries, employeurs, president, missing):
    jury_session, _ = held
    _attendance(jury_session, salaries, employeurs, president=president)
    assert jury_session.attendance_missing == missing
    if missing:
        with pytest.raises(Conflict) as refused:
            decisions.publish_session(jury_session, secretariat)
        assert all(m in refused.value.message for m in missing)
        assert refused.value.errors["attendance"] == missing
        assert jury_session.published_at is None
        assert jury_session.publication_refusal(0) == refused.value.message
    else:
        decisions.publish_session(jury_session, secretariat)
        assert jury_session.published_at is not None


def test_absent_members_do_not_count(held, secretariat):
    jury_session, _ = held
    _attendance(jury_session, 2, 1, absent=3)
    assert jury_session.attendance_missing == ["collège des employeurs : 1 membre présent sur 2 requis"]


def test_the_minimum_per_college_is_configured(held, secretariat, app):
    jury_session, _ = held
    _attendance(jury_session, 2, 2)
    app.config["JURY_MIN_PER_COLLEGE"] = 3
    try:
        assert jury_session.attendance_missing == ["collège des salariés : 2 membres présents sur 3 requis",
                                                   "collège des employeurs : 2 membres présents sur 3 requis"]
    finally:
        app.config["JURY_MIN_PER_COLLEGE"] = 2


def test_members_named_on_the_session_form_have_no_attendance_yet(held):
    jury_session, _ = held
    jurors = _jurors(4)
    jury_session.members.extend(jurors)
    db.session.commit()
    assert not jury_session.attendance_recorded and len(jury_session.attendance_missing) == 3


# ---------------------------------------------------------------- bad attendances: 422, nothing written


def _lines(users, **president_of):
    return [Attendee(u.email, "salaries" if n < 2 else "employeurs", True, n in president_of.get("at", (0,)))
            for n, u in enumerate(users)]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda lines, users: [*lines, Attendee("inconnu@exemple.fr", "salaries", True, False)],
     "inconnu@exemple.fr : aucun utilisateur n'a cette adresse email."),
    (lambda lines, users: [*lines, Attendee(users["company"].email, "salaries", True, False)],
     "cet utilisateur n'a pas le rôle « Membre du jury »."),
    (lambda lines, users: [Attendee(line.email, line.college, True, True) for line in lines],
     "Un seul président par session"),
    (lambda lines, users: [Attendee(lines[0].email, "salaries", False, True), *lines[1:]],
     "le président du jury doit être présent."),
    (lambda lines, users: [Attendee(lines[0].email, "patronat", True, True), *lines[1:]],
     "le collège doit être « salaries » (salariés) ou « employeurs »."),
    (lambda lines, users: [*lines, lines[1]], "ce membre est indiqué deux fois."),
])
def test_a_bad_attendance_is_refused_naming_the_member_and_nothing_changes(held, secretariat, mutate, expected):
    jury_session, _ = held
    jurors = _jurors(4)
    record_attendance(jury_session, _lines(jurors), secretariat)
    db.session.commit()
    users = {"company": make_user("entreprise")}
    with pytest.raises(ValidationFailed) as refused:
        record_attendance(jury_session, mutate(_lines(_jurors(4)), users), secretariat)
    assert expected in refused.value.message and refused.value.errors["members"]
    db.session.rollback()
    assert {m.id for m in jury_session.members} == {u.id for u in jurors}


def test_the_attendance_of_a_published_session_is_frozen(held, secretariat):
    jury_session, _ = held
    _attendance(jury_session, 2, 2)
    decisions.publish_session(jury_session, secretariat)
    with pytest.raises(Conflict):
        record_attendance(jury_session, _lines(_jurors(4)), secretariat)


# ---------------------------------------------------------------- API


def _payload(users, president=0):
    return {"members": [{"email": u.email, "college": "salaries" if n < 2 else "employeurs", "present": True,
                         "president": n == president} for n, u in enumerate(users)]}


def test_api_records_the_attendance_and_publishes(held, secretariat, api_as):
    jury_session, _ = held
    jurors = _jurors(4)
    response = api_as(secretariat).put(f"/jury-sessions/{jury_session.id}/attendance", json=_payload(jurors))
    assert response.status_code == 200, response.json
    assert response.json["attendance_missing"] == []
    first = next(m for m in response.json["attendance"] if m["email"] == jurors[0].email)
    assert first == {"email": jurors[0].email, "name": jurors[0].full_name, "college": "salaries",
                     "present": True, "president": True}
    assert api_as(secretariat).post(f"/jury-sessions/{jury_session.id}/publish").status_code == 200


def test_api_publication_refused_names_what_is_missing(held, secretariat, api_as):
    jury_session, _ = held
    jurors = _jurors(3)
    api_as(secretariat).put(f"/jury-sessions/{jury_session.id}/attendance", json=_payload(jurors))
    response = api_as(secretariat).post(f"/jury-sessions/{jury_session.id}/publish")
    assert response.status_code == 409
    assert "collège des employeurs : 1 membre présent sur 2 requis" in response.json["detail"]


@pytest.mark.parametrize("email", ["personne@exemple.fr", "company"])
def test_api_unknown_or_non_jury_email_is_422_naming_it(held, secretariat, api_as, email):
    jury_session, _ = held
    email = make_user("entreprise").email if email == "company" else email
    payload = _payload(_jurors(4))
    payload["members"].append({"email": email, "college": "salaries", "present": True, "president": False})
    response = api_as(secretariat).put(f"/jury-sessions/{jury_session.id}/attendance", json=payload)
    assert response.status_code == 422 and email in response.get_data(as_text=True)
    assert jury_session.members == []


def test_api_attendance_is_the_secretariat_s(held, api_as):
    jury_session, _ = held
    for user in (make_user("entreprise"), make_user("jury")):
        assert api_as(user).put(f"/jury-sessions/{jury_session.id}/attendance",
                                json=_payload(_jurors(4))).status_code == 403


# ---------------------------------------------------------------- the minutes


def _text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def test_the_minutes_list_members_president_and_decisions(held, secretariat):
    jury_session, file = held
    _attendance(jury_session, 2, 2)
    holder = file.candidate
    frozen = f"{holder.first_name} {holder.last_name.upper()}"
    holder.first_name = "Changé"  # after the decision: the minutes keep the identity the document froze
    db.session.commit()
    text = _text(minutes.minutes_pdf(jury_session))
    assert "Procès-verbal du jury paritaire national" in text
    assert "15 juin 2027" in text and "Lyon" in text
    assert "Collège des salariés" in text and "Collège des employeurs" in text
    for member in jury_session.members:
        assert member.full_name in text
    assert f"Président du jury : {jury_session.president.full_name}" in text
    assert frozen in text and "Changé" not in text
    assert file.cqp.code in text and "Validé" in text
    assert all(c.code in text for c in file.decision.validated_competences)
    assert "Signatures" in text and "Le président du jury" in text


def test_no_minutes_while_a_registered_file_is_undecided(held, secretariat):
    jury_session, _ = held
    make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    with pytest.raises(Conflict) as refused:
        minutes.minutes_pdf(jury_session)
    assert "1 dossier inscrit n'a pas encore de décision" in refused.value.message


def test_minutes_by_role_in_the_api(held, secretariat, api_as):
    jury_session, _ = held
    _attendance(jury_session, 2, 2)
    url = f"/jury-sessions/{jury_session.id}/minutes.pdf"
    member = jury_session.members[0]
    for user, status in ((secretariat, 200), (member, 200), (make_user("jury"), 404), (make_user("entreprise"), 403)):
        response = api_as(user).get(url)
        assert response.status_code == status, user.role
        if status == 200:
            assert response.headers["Content-Type"] == "application/pdf" and response.data.startswith(b"%PDF")
    make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    assert api_as(secretariat).get(url).status_code == 409


# ---------------------------------------------------------------- the pages


def test_the_attendance_page_records_and_refuses(held, secretariat, client, login_as):
    jury_session, _ = held
    jurors = _jurors(4)
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}/presence"
    page = client.get(url)
    assert page.status_code == 200 and "Feuille de présence" in page.get_data(as_text=True)
    two_presidents = {f"college-{jurors[0].id}": "salaries", f"present-{jurors[0].id}": "1",
                      f"college-{jurors[1].id}": "salaries", "president": str(jurors[1].id)}
    refused = submit_form(client, url, two_presidents)
    assert refused.status_code == 422 and "le président du jury doit être présent" in refused.get_data(as_text=True)
    sheet = {"president": str(jurors[0].id)}
    for n, juror in enumerate(jurors):
        sheet |= {f"college-{juror.id}": "salaries" if n < 2 else "employeurs", f"present-{juror.id}": "1"}
    done = submit_form(client, url, sheet, follow_redirects=True)
    assert "Feuille de présence enregistrée" in done.get_data(as_text=True)
    assert jury_session.attendance_missing == [] and jury_session.president.id == jurors[0].id


def test_the_session_page_says_why_it_cannot_be_published_and_refuses(held, secretariat, client, login_as):
    jury_session, _ = held
    login_as(secretariat)
    url = f"/secretariat/jurys/{jury_session.id}"
    page = client.get(url).get_data(as_text=True)
    assert "feuille de présence du jury" in page and "aucun président présent désigné" in page
    assert "Publier les résultats</button>" not in page and "Compléter la feuille de présence" in page
    refused = submit_form(client, f"{url}/publier", {}, form_url=url, follow_redirects=True)
    assert "aucun président présent désigné" in refused.get_data(as_text=True)
    assert jury_session.published_at is None


def test_the_minutes_pages_by_role(held, secretariat, app):
    from tests.conftest import login
    from tests.factories import PASSWORD

    jury_session, _ = held
    _attendance(jury_session, 2, 2)
    url = f"/jury/sessions/{jury_session.id}/proces-verbal.pdf"
    pages = {secretariat.email: f"/secretariat/jurys/{jury_session.id}",
             jury_session.members[0].email: f"/jury/sessions/{jury_session.id}"}
    for email, status in ((secretariat.email, 200), (jury_session.members[0].email, 200),
                          (make_user("jury").email, 404), (make_user("entreprise").email, 403)):
        client = app.test_client()
        assert login(client, email, PASSWORD).status_code == 302
        response = client.get(url)
        assert response.status_code == status, email
        if status == 200:
            assert response.data.startswith(b"%PDF")
            assert "proces-verbal.pdf" in client.get(pages[email]).get_data(as_text=True)
