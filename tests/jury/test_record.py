"""R15: a decision freezes the record. The holder's identity and the competences are those of the document's
version 1, issued at the decision; the PDF, /verifier and GET /api/v1/verify read the current version and
never the live candidate; the secretariat's rectification (reason mandatory) reissues every document of the
candidate under the same number as the next version, earlier versions kept with who, when and why; a refused
rectification changes nothing; a rectified decision reissues too; the migration backfills version 1."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.files.models import Candidate, FileStatus, StatusChange
from app.jury import decisions, parchments, pdf, record
from app.jury.models import ParchmentVersion
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def jury_session(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    today_is(JURY_DAY)
    return jury_session


@pytest.fixture
def decided(jury_session, secretariat):
    """A partiel file (C1 and C3 validated) of a session published, its attestation numbered."""
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, [True, False, True])
    decisions.publish_session(jury_session, secretariat)
    db.session.commit()
    return file


def _rename_behind_the_record(candidate: Candidate, first: str, last: str) -> None:
    """What happened before the lock (R15) existed: the live row renamed after the decision."""
    candidate.set_names(first, last)
    db.session.commit()


# ---------------------------------------------------------------- version 1, frozen at the decision


def test_the_decision_issues_version_1_with_the_identity_and_the_competences(decided, secretariat):
    parchment = decided.parchment
    [v1] = parchment.versions
    candidate = decided.candidate
    assert parchment.current_version is v1
    assert (v1.version, v1.kind, v1.reason, v1.issued_by_id) == (1, "attestation", None, secretariat.id)
    assert v1.holder["first_name"] == candidate.first_name and v1.holder["last_name"] == candidate.last_name
    assert v1.holder["birth_date"] == candidate.birth_date.isoformat()
    first, second, third = decided.competences
    assert v1.competences == [{"code": c.code, "label": c.title, "validated": v}
                              for c, v in ((first, True), (second, False), (third, True))]
    assert (v1.cqp_code, v1.cqp_title, v1.jury_date) == (decided.cqp.code, decided.cqp.title, JURY_DAY)


def test_a_renamed_candidate_does_not_change_the_pdf_the_page_nor_the_api(decided, client, api_as):
    """The mutant check: each of the three would show the new name if it read the live candidate."""
    frozen_first, frozen_last = decided.candidate.first_name, decided.candidate.last_name
    number = decided.parchment.number
    _rename_behind_the_record(decided.candidate, "Renommée", "Ailleurs")

    text_ = pdf_text(pdf.parchment_pdf(decided.parchment))
    assert frozen_first in text_ and frozen_last.upper() in text_
    assert "Renommée" not in text_ and "AILLEURS" not in text_
    page = client.get(f"/verifier/{number}").get_data(as_text=True)
    assert f"{frozen_first} {frozen_last[0]}." in page and "Renommée" not in page
    answer = api_as(None).get(f"/verify/{number}").json
    assert answer["holder"] == f"{frozen_first} {frozen_last[0]}." and answer["version"] == 1


def test_the_documents_show_what_the_version_says(decided, client, api_as):
    """And the other way round: a version's holder is what is printed and verified."""
    v1 = decided.parchment.current_version
    v1.holder = {**v1.holder, "first_name": "Gravée", "last_name": "Dansmarbre"}
    db.session.commit()
    assert "Gravée DANSMARBRE" in pdf_text(pdf.parchment_pdf(decided.parchment))
    assert "Gravée D." in client.get(f"/verifier/{decided.parchment.number}").get_data(as_text=True)
    assert api_as(None).get(f"/verify/{decided.parchment.number}").json["holder"] == "Gravée D."


def test_a_session_batch_prints_the_versions(decided, secretariat):
    _rename_behind_the_record(decided.candidate, "Renommée", "Ailleurs")
    data, _ = parchments.reprint_session(decided.jury_session, secretariat)
    assert "AILLEURS" not in pdf_text(data) and decided.parchment.number in pdf_text(data)


# ---------------------------------------------------------------- rectification of the civil status


def test_a_rectification_reissues_the_document_as_version_2_under_the_same_number(decided, secretariat,
                                                                                 api_as, client):
    parchment, candidate = decided.parchment, decided.candidate
    number, old_last = parchment.number, candidate.last_name
    [v2] = record.rectify_identity(candidate, {"last_name": "Martin", "sex": "F", "usage_name": "Durand"},
                                   "  Erreur de saisie du nom de naissance (acte de naissance reçu).  ", secretariat)
    db.session.commit()
    assert parchment.number == number and [v.version for v in parchment.versions] == [1, 2]
    v1 = parchment.versions[0]
    assert v1.holder["last_name"] == old_last and v1.reason is None  # kept as it was
    assert (v2.holder["last_name"], v2.holder["sex"], v2.holder["usage_name"]) == ("Martin", "F", "Durand")
    assert v2.reason == "Erreur de saisie du nom de naissance (acte de naissance reçu)."
    assert v2.issued_by_id == secretariat.id and v2.competences == v1.competences
    assert candidate.last_name == "Martin" and candidate.sex == "F"

    text_ = pdf_text(pdf.parchment_pdf(parchment))
    assert "MARTIN" in text_ and old_last.upper() not in text_ and "nom d'usage : DURAND" in text_
    assert "version 2, délivrée le" in text_ and "née le" in text_ and f"Numéro d'attestation : {number}" in text_
    answer = api_as(None).get(f"/verify/{number}").json
    assert (answer["holder"], answer["version"]) == (f"{candidate.first_name} M.", 2)
    page = client.get(f"/verifier/{number}").get_data(as_text=True)
    assert "Version 2 de l" in page and f"{candidate.first_name} M." in page


def test_a_rectification_is_in_the_history_of_each_decided_file(decided, secretariat):
    record.rectify_identity(decided.candidate, {"first_name": "Camila"}, "Prénom mal orthographié", secretariat)
    db.session.commit()
    row = db.session.scalars(select(StatusChange).where(StatusChange.file_id == decided.id,
                                                        StatusChange.event == "rectify_identity")).one()
    assert (row.from_status, row.to_status, row.actor_id, row.comment) == (
        "partiel", "partiel", secretariat.id, "Prénom mal orthographié")


def test_every_document_of_the_candidate_is_reissued(jury_session, secretariat):
    first = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, cqp_code="FAB-OPF")
    second = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, candidate=first.candidate,
                       establishment=first.establishment, cqp_code="FAB-CEF")
    failed = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, candidate=first.candidate,
                       establishment=first.establishment, cqp_code="MNT-TMI")
    decide(first, secretariat, True)
    decide(second, secretariat, [True] + [False] * (len(second.competences) - 1))
    decide(failed, secretariat, False)
    versions = record.rectify_identity(first.candidate, {"birth_date": "1990-03-04"}, "Date de naissance",
                                       secretariat)
    assert sorted(v.parchment.number for v in versions) == sorted([first.parchment.number, second.parchment.number])
    assert all(v.version == 2 and v.holder["birth_date"] == "1990-03-04" for v in versions)
    assert failed.parchment is None
    documents = record.documents_of(first.candidate)
    assert [len(d.versions) for d in documents] == [2, 2]


def test_the_reason_is_required_and_every_mistake_is_named_at_once(decided, secretariat):
    candidate = decided.candidate
    before = (candidate.first_name, candidate.last_name, candidate.birth_date)
    with pytest.raises(ValidationFailed) as refused:
        record.rectify_identity(candidate, {"last_name": "Martin", "sex": "X"}, "   ", secretariat)
    assert set(refused.value.errors) == {"reason", "sex"}
    assert "motif" in refused.value.errors["reason"][0].lower()
    with pytest.raises(ValidationFailed) as refused:
        record.rectify_identity(candidate, {"last_name": "Martin"}, None, secretariat)
    assert refused.value.errors == {"reason": [record.REASON_REQUIRED]}
    db.session.rollback()
    assert (candidate.first_name, candidate.last_name, candidate.birth_date) == before
    assert [v.version for v in decided.parchment.versions] == [1]


def test_a_refused_rectification_changes_nothing(decided, secretariat):
    """A duplicate of another candidate of the establishment (R12): 409, the request rolls back."""
    candidate = decided.candidate
    other = make_file(FileStatus.EN_COURS_INSCRIPTION, establishment=decided.establishment).candidate
    db.session.commit()
    before = dict(decided.parchment.current_version.holder)
    with pytest.raises(Conflict):
        record.rectify_identity(candidate, {"first_name": other.first_name, "last_name": other.last_name,
                                            "birth_date": other.birth_date.isoformat()}, "Homonyme", secretariat)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(ParchmentVersion)) == 1
    assert decided.parchment.current_version.holder == before
    assert candidate.last_name == before["last_name"]


def test_nothing_to_rectify_and_only_the_secretariat_rectifies(decided, secretariat):
    candidate = decided.candidate
    with pytest.raises(ValidationFailed) as refused:
        record.rectify_identity(candidate, {"last_name": candidate.last_name}, "Rien", secretariat)
    assert refused.value.message == record.NOTHING_CHANGED
    company = make_user("entreprise", establishment=decided.establishment)
    with pytest.raises(Conflict):
        record.rectify_identity(candidate, {"last_name": "Martin"}, "Motif", company)
    with pytest.raises(Conflict):
        record.reissue(decided.parchment, company, "Motif")


def test_reissue_needs_a_reason_and_keeps_the_holder(decided, secretariat):
    _rename_behind_the_record(decided.candidate, "Renommée", "Ailleurs")
    with pytest.raises(ValidationFailed) as refused:
        record.reissue(decided.parchment, secretariat, "")
    assert "reason" in refused.value.errors
    version = record.reissue(decided.parchment, secretariat, "Papier abîmé à l'envoi")
    assert version.version == 2 and version.holder == decided.parchment.versions[0].holder


def test_a_document_written_without_a_version_keeps_what_it_said_as_version_1(decided, secretariat):
    """Rows written before the versions (or in bulk): the old identity becomes version 1, the new one 2."""
    parchment = decided.parchment
    for version in list(parchment.versions):
        parchment.versions.remove(version)
    db.session.commit()
    old_last = decided.candidate.last_name
    assert parchments.record_of(parchment).holder["last_name"] == old_last  # shown from its rows meanwhile
    record.rectify_identity(decided.candidate, {"last_name": "Martin"}, "Acte reçu", secretariat)
    assert [(v.version, v.holder["last_name"], v.reason) for v in parchment.versions] == [
        (1, old_last, None), (2, "Martin", "Acte reçu")]


# ---------------------------------------------------------------- a changed decision


def test_a_rectified_decision_reissues_with_its_reason(decided, secretariat):
    decide(decided, secretariat, True, reason="Erreur de report de la compétence C2")
    parchment = decided.parchment
    assert [(v.version, v.kind, v.reason) for v in parchment.versions] == [
        (1, "attestation", None), (2, "parchemin", "Erreur de report de la compétence C2")]
    assert "Certificat de Qualification Professionnelle" in pdf_text(pdf.parchment_pdf(parchment))


def test_a_correction_before_publication_updates_a_document_never_printed(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, [True, False, True])
    decide(file, secretariat, [True, True, False])
    [v1] = file.parchment.versions
    assert [c["validated"] for c in v1.competences] == [True, True, False]
    parchments.print_session(jury_session, secretariat)
    decide(file, secretariat, True)
    assert [(v.version, v.kind, v.reason) for v in file.parchment.versions] == [
        (1, "attestation", None), (2, "parchemin", "Correction de la décision du jury avant publication")]
    decide(file, secretariat, True)  # the same decision again: nothing reissued
    assert len(file.parchment.versions) == 2


# ---------------------------------------------------------------- pages: the company's lock and the API


def test_the_secretariat_s_api_patch_with_a_reason_reissues(decided, secretariat, api_as):
    api = api_as(secretariat)
    refused = api.patch(f"/candidates/{decided.candidate_id}", json={"last_name": "Martin"})
    assert refused.status_code == 422 and "reason" in refused.json["errors"]
    done = api.patch(f"/candidates/{decided.candidate_id}", json={"last_name": "Martin", "reason": "Acte reçu"})
    assert done.status_code == 200, done.json
    db.session.expire_all()
    assert [v.version for v in decided.parchment.versions] == [1, 2]
    assert api_as(None).get(f"/verify/{decided.parchment.number}").json["holder"].endswith(" M.")


# ---------------------------------------------------------------- migration


def test_the_migration_backfills_version_1_of_existing_parchments(app, app_ctx, jury_session, secretariat):
    from flask_migrate import downgrade, upgrade

    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, establishment=make_establishment())
    decide(file, secretariat, [True, False, True])
    db.session.commit()
    expected = parchments.record_of(file.parchment)
    expected = (expected.kind, expected.holder, expected.competences, expected.cqp_code, expected.jury_date,
                expected.issued_by_id)
    parchment_id = file.parchment.id
    db.session.close()

    directory = str(app.extensions["migrate"].directory)
    downgrade(directory=directory, revision="f2c6a1d8e9b3")
    upgrade(directory=directory)

    [row] = db.session.execute(text("SELECT version, reason FROM parchment_versions WHERE parchment_id = :id"),
                               {"id": parchment_id}).all()
    assert tuple(row) == (1, None)
    v1 = db.session.get(ParchmentVersion, db.session.scalar(
        select(ParchmentVersion.id).where(ParchmentVersion.parchment_id == parchment_id)))
    assert (v1.kind, v1.holder, v1.competences, v1.cqp_code, v1.jury_date, v1.issued_by_id) == expected


# ---------------------------------------------------------------- the secretariat's page


def _identity_form(candidate, **changes) -> dict:
    data = {"last_name": candidate.last_name, "usage_name": candidate.usage_name or "",
            "first_name": candidate.first_name, "other_first_names": "", "sex": candidate.sex or "",
            "birth_date": candidate.birth_date.isoformat(), "birth_place": candidate.birth_place or "",
            "birth_place_code": candidate.birth_place_code or "", "birth_country": candidate.birth_country or ""}
    data.update(changes)
    return data


def test_the_rectification_page_is_prefilled_and_for_the_secretariat_only(app, decided, secretariat, client,
                                                                         login_as):
    from tests.conftest import login
    from tests.factories import PASSWORD

    url = f"/secretariat/candidats/{decided.candidate_id}/rectification"
    company = make_user("entreprise", establishment=decided.establishment)
    db.session.commit()
    other = app.test_client()
    login(other, company.email, PASSWORD)
    assert other.get(url).status_code in (403, 404)
    login_as(secretariat)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'value="{decided.candidate.last_name}"' in html
    assert "Motif de la rectification" in html and decided.parchment.number in html and "en vigueur" in html


def test_the_page_refuses_without_reason_then_rectifies(decided, secretariat, client, login_as):
    from tests.conftest import submit_form

    url = f"/secretariat/candidats/{decided.candidate_id}/rectification"
    login_as(secretariat)
    refused = submit_form(client, url, _identity_form(decided.candidate, last_name="Martin"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and record.REASON_REQUIRED in html and "Cochez la confirmation" in html
    db.session.expire_all()
    assert decided.candidate.last_name != "Martin" and len(decided.parchment.versions) == 1

    done = submit_form(client, url, {**_identity_form(decided.candidate, last_name="Martin"),
                                     "reason": "Acte de naissance reçu", "confirm": "y"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#versions")
    db.session.expire_all()
    assert decided.candidate.last_name == "Martin"
    assert [(v.version, v.reason) for v in decided.parchment.versions] == [(1, None), (2, "Acte de naissance reçu")]
    html = client.get(url).get_data(as_text=True)
    assert "1 document délivré à nouveau" in html and "Acte de naissance reçu" in html and "2 versions" in html


def test_an_unknown_candidate_is_404(secretariat, client, login_as):
    login_as(secretariat)
    assert client.get("/secretariat/candidats/999999/rectification").status_code == 404


def test_the_file_page_shows_the_versions_to_the_secretariat_only(app, decided, secretariat, client, login_as):
    from tests.conftest import login
    from tests.factories import PASSWORD

    record.rectify_identity(decided.candidate, {"last_name": "Martin"}, "Acte de naissance reçu", secretariat)
    company = make_user("entreprise", establishment=decided.establishment)
    db.session.commit()
    login_as(secretariat)
    html = client.get(f"/dossiers/{decided.id}").get_data(as_text=True)
    assert f"Versions de l&#39;attestation {decided.parchment.number}" in html or \
        f"Versions de l'attestation {decided.parchment.number}" in html
    assert "Acte de naissance reçu" in html and "en vigueur" in html
    other = app.test_client()
    login(other, company.email, PASSWORD)
    page = other.get(f"/dossiers/{decided.id}")
    assert page.status_code == 200 and "Versions de l" not in page.get_data(as_text=True)


def test_two_reissues_at_once_the_second_is_a_conflict_not_a_crash(decided, secretariat, monkeypatch):
    """The second one computed its version number before the first was written: 409, nothing half written."""
    from app.jury import versions

    parchment = decided.parchment
    db.session.add(ParchmentVersion(parchment_id=parchment.id, version=2, kind=parchment.kind, reason="Ailleurs",
                                    holder=parchment.current_version.holder, competences=[], cqp_code="X",
                                    cqp_title="X", jury_date=JURY_DAY))
    db.session.flush()
    db.session.expire(parchment, ["versions"])
    monkeypatch.setattr(type(parchment), "current_version", property(lambda self: self.versions[0]))
    with pytest.raises(Conflict):
        versions.issue_version(parchment, secretariat.id, "Motif")


def test_the_api_answers_the_versions_to_the_secretariat(decided, secretariat, api_as):
    record.rectify_identity(decided.candidate, {"last_name": "Martin"}, "Acte de naissance reçu", secretariat)
    company = make_user("entreprise", establishment=decided.establishment)
    db.session.commit()
    answer = api_as(secretariat).get(f"/files/{decided.id}/parchment/versions")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["number"] == decided.parchment.number and body["kind"] == "attestation"
    v1, v2 = body["versions"]
    assert (v1["version"], v1["reason"], v1["in_force"], v2["version"], v2["reason"], v2["in_force"]) == (
        1, None, False, 2, "Acte de naissance reçu", True)
    assert v2["holder"]["last_name"] == "Martin" and v2["issued_by"] == secretariat.email
    assert v2["issued_at"][-6:] in ("+01:00", "+02:00")
    assert [c["validated"] for c in v2["competences"]] == [True, False, True]
    assert api_as(company).get(f"/files/{decided.id}/parchment/versions").status_code in (403, 404)
    undecided = make_file(FileStatus.INSCRIPTION_JURY, session=decided.jury_session)
    db.session.commit()
    assert api_as(secretariat).get(f"/files/{undecided.id}/parchment/versions").status_code == 404
