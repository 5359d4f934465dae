"""The candidature (app/files/services.py): edits while it is being registered (R1), the
confirmation of the assessor (R2) and withdrawal, through the functions the pages and the API call.

Each refusal is asserted by the guard's own French message (and the status left unchanged), so a
test fails if its guard is removed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.errors import Conflict, RuleViolation, ValidationFailed
from app.extensions import db
from app.files import services
from app.files.models import CandidateFile, Document, FileStatus
from app.referential.models import Cqp
from tests import factories
from tests.files.conftest import (
    confirmed_file,
    new_file,
    outbox,
)

# ---------------------------------------------------------------- R1: edited only while being registered


def test_r1_a_file_is_edited_only_while_en_cours_inscription(company, assessor):
    file = confirmed_file(company, assessor)
    with pytest.raises(Conflict, match="« En attente d'évaluation »"):
        services.update_file(file, company, training_path="evaluation_directe")
    db.session.rollback()
    assert file.training_path == "formation"


# ---------------------------------------------------------------- R2: confirm the assessor


def test_r2_confirm_moves_the_file_dates_it_and_queues_one_email_to_the_assessor(company, assessor):
    file = confirmed_file(company, assessor)
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION
    assert file.assessor_confirmed_on == date(2027, 3, 1)
    assert [h.event for h in file.history] == ["confirm_assessor"]
    assert file.history[0].actor_id == company.id
    emails = outbox("assessor_confirmed")
    assert len(emails) == 1 and emails[0].recipients == assessor.user.email
    assert f"/dossiers/{file.id}" in emails[0].body_text


@pytest.mark.parametrize("missing,message", [
    ({"assessor_id": None}, "L'évaluateur habilité n'est pas choisi."),
    ({"interview_date": None}, "La date d'entretien prévue n'est pas renseignée."),
    ({"training_path": None}, "Le parcours de formation n'est pas renseigné."),
    ({"training_scheme": None}, "Le dispositif de formation n'est pas renseigné."),
])
def test_r2_confirm_is_refused_while_something_is_missing(company, assessor, missing, message):
    file = new_file(company, assessor, **missing)
    with pytest.raises(RuleViolation) as refused:
        services.confirm_assessor(file, company)
    assert message in refused.value.message
    assert file.status == FileStatus.EN_COURS_INSCRIPTION and file.history == []
    assert outbox("assessor_confirmed") == []


def test_r2_confirm_is_refused_once_the_assessors_habilitation_has_ended(company, today_is):
    assessor = factories.make_assessor(until=date(2027, 3, 5))
    file = new_file(company, assessor)  # chosen while habilitated
    today_is("2027-03-06")
    with pytest.raises(RuleViolation, match=r"n'est pas valide à cette date \(fin le 05/03/2027\)"):
        services.confirm_assessor(file, company)
    assert file.status == FileStatus.EN_COURS_INSCRIPTION


def test_r2_confirm_is_accepted_on_the_last_day_of_the_habilitation(company, today_is):
    assessor = factories.make_assessor(until=date(2027, 3, 5))
    file = new_file(company, assessor)
    today_is("2027-03-05")
    services.confirm_assessor(file, company)
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION


def test_r2_an_assessor_habilitated_for_other_cqps_only_is_refused(company, on_registration_day):
    other = factories.make_assessor(until=date(2028, 1, 1), cqps=[factories.get_cqp("FAB-OPF")])
    file = new_file(company, other)
    file.cqp.code  # noqa: B018 (loaded)
    other.cqps = [db.session.scalar(select(factories.Cqp).where(factories.Cqp.code != "FAB-OPF"))]
    db.session.commit()
    with pytest.raises(RuleViolation, match="n'est pas habilité pour ce CQP"):
        services.confirm_assessor(file, company)


def test_r2_the_choice_of_an_assessor_whose_habilitation_ended_is_refused_at_once(company, on_registration_day):
    expired = factories.make_assessor(until=date(2027, 2, 1))
    with pytest.raises(ValidationFailed, match="a pris fin le 01/02/2027") as refused:
        new_file(company, expired)
    assert "assessor_id" in refused.value.errors


def test_r2_a_competence_of_another_cqp_is_refused(company, assessor):
    with pytest.raises(ValidationFailed, match="C99") as refused:
        new_file(company, assessor, competence_codes=["C1", "C99"])
    assert "competence_codes" in refused.value.errors


# ---------------------------------------------------------------- withdraw


def test_withdraw_needs_a_reason_and_is_final(company, assessor):
    file = new_file(company, assessor)
    with pytest.raises(RuleViolation, match="Le motif de l'abandon est obligatoire."):
        services.withdraw(file, company, "  ")
    services.withdraw(file, company, "Départ de l'entreprise")
    assert file.status == FileStatus.ABANDONNE and file.withdraw_reason == "Départ de l'entreprise"
    assert file.history[-1].comment == "Départ de l'entreprise"
    with pytest.raises(Conflict, match="« Abandonné »"):
        services.withdraw(file, company, "encore")


# ---------------------------------------------------------------- R12b: one open file per candidate and CQP


def test_r12b_a_second_open_file_for_the_same_cqp_is_refused_naming_the_first(company, assessor):
    first = new_file(company, assessor)
    with pytest.raises(Conflict) as refused:
        services.create_file(first.candidate, company, cqp_code="FAB-OPF", competence_codes=["C1"],
                             training_path="formation", training_scheme="plan_developpement_competences")
    assert refused.value.status_code == 409
    assert f"le dossier n° {first.id} (« En cours d'inscription »)" in refused.value.message
    assert "Élodie Martin a déjà un dossier ouvert pour le CQP FAB-OPF" in refused.value.message
    assert refused.value.errors["cqp_code"]
    db.session.rollback()
    assert len(first.candidate.files) == 1  # nothing half written


def test_r12b_another_cqp_or_a_final_file_leaves_the_way_open(company, assessor):
    first = new_file(company, assessor)
    other_cqp = db.session.scalars(select(Cqp).where(Cqp.code != "FAB-OPF").order_by(Cqp.code).limit(1)).one()
    other = services.create_file(first.candidate, company, cqp_code=other_cqp.code,
                                 competence_codes=[other_cqp.active_competences[0].code], training_path="formation",
                                 training_scheme="plan_developpement_competences")
    assert other.cqp_id == other_cqp.id
    with pytest.raises(Conflict, match=f"le dossier n° {first.id} "):  # nor by moving the other one onto FAB-OPF
        services.update_file(other, company, cqp_code="FAB-OPF", competence_codes=["C1"])
    db.session.rollback()
    services.withdraw(first, company, "Départ de l'entreprise")
    db.session.commit()
    again = new_file(company, assessor, candidate=first.candidate)
    assert again.id != first.id and again.status == FileStatus.EN_COURS_INSCRIPTION


def test_r12b_the_database_refuses_a_second_open_file_too(company, assessor):
    """The partial unique index (model and migration) backs the service's check."""
    first = new_file(company, assessor)
    db.session.add(CandidateFile(candidate_id=first.candidate_id, establishment_id=first.establishment_id,
                                 cqp_id=first.cqp_id, status=FileStatus.EN_COURS_INSCRIPTION.value))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(CandidateFile(candidate_id=first.candidate_id, establishment_id=first.establishment_id,
                                 cqp_id=first.cqp_id, status=FileStatus.ABANDONNE.value, withdraw_reason="x"))
    db.session.flush()  # a final file is not counted


# ---------------------------------------------------------------- documents: deleted or replaced while their step is not done


def _stored(document) -> bool:
    from app.core.uploads import upload_dir

    return (upload_dir() / document.stored_name).is_file()


def _deposit(actor, file, kind="dossier_candidature", name="outil6.pdf", on_file=True):
    from tests.files.conftest import upload

    document = services.upload_document(actor, kind=kind, upload=upload(name=name), candidate=file.candidate,
                                        file=file if on_file else None)
    db.session.commit()
    return document


def _audit(action: str) -> list:
    from app.core.models import AuditEntry

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_document_is_deleted_while_the_candidature_is_being_registered(company, assessor):
    file = new_file(company, assessor)
    document = _deposit(company, file)
    stored_name = document.stored_name
    services.delete_document(document, company)
    assert _stored(document)  # the scan goes with the commit, not before
    db.session.commit()
    assert db.session.scalars(select(Document).where(Document.stored_name == stored_name)).first() is None
    assert not _stored(document)
    assert [e.details["filename"] for e in _audit("document.delete")] == ["outil6.pdf"]
    assert file.documents == []


def test_a_rolled_back_deletion_keeps_the_scan(company, assessor):
    file = new_file(company, assessor)
    document = _deposit(company, file)
    services.delete_document(document, company)
    db.session.rollback()
    assert _stored(document) and db.session.get(Document, document.id) is not None


def test_once_the_assessor_is_confirmed_the_candidatures_documents_stay(company, assessor):
    from tests.files.conftest import upload

    file = new_file(company, assessor)
    document = _deposit(company, file, name="dossier-signé.pdf")
    services.confirm_assessor(file, company)
    db.session.commit()
    for attempt in (lambda: services.delete_document(document, company),
                    lambda: services.replace_document(document, company, upload(name="autre.pdf"))):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.message == ("Le document « dossier-signé.pdf » ne peut plus être supprimé ni remplacé : "
                                         "l'évaluateur est confirmé pour la candidature au CQP FAB-OPF (dossier "
                                         "« En attente d'évaluation »).")
        db.session.rollback()
    assert db.session.get(Document, document.id).filename == "dossier-signé.pdf" and _stored(document)


def test_a_diploma_of_the_candidate_page_stays_once_one_of_their_candidatures_is_confirmed(company, assessor):
    file = new_file(company, assessor)
    diploma = _deposit(company, file, kind="diplome", name="bac.pdf", on_file=False)
    assert diploma.file_id is None and diploma.can_change(company)
    assert diploma in services.file_documents(file)  # the diploma appears on the candidature
    services.confirm_assessor(file, company)
    db.session.commit()
    assert "candidature au CQP FAB-OPF" in diploma.change_refusal(company)


def test_a_document_is_replaced_in_place_and_the_old_scan_goes(company, assessor):
    from tests.files.conftest import PNG, upload

    file = new_file(company, assessor)
    document = _deposit(company, file, name="flou.pdf")
    old_name = document.stored_name
    services.replace_document(document, company, upload(PNG, "net.png", "image/png"))
    db.session.commit()
    from app.core.uploads import upload_dir

    assert (document.filename, document.content_type) == ("net.png", "image/png") and _stored(document)
    assert not (upload_dir() / old_name).exists()
    assert [e.details["previous_filename"] for e in _audit("document.replace")] == ["flou.pdf"]


def test_a_refused_replacement_changes_nothing(company, assessor):
    from tests.files.conftest import EXE, upload

    file = new_file(company, assessor)
    document = _deposit(company, file, name="bon.pdf")
    with pytest.raises(ValidationFailed) as refused:
        services.replace_document(document, company, upload(EXE, "bon.pdf"))
    assert "ni un PDF" in refused.value.message
    db.session.rollback()
    assert db.session.get(Document, document.id).filename == "bon.pdf" and _stored(document)


def test_who_changes_which_kind(company, assessor, today_is):
    from tests.files.conftest import add_guide, ready_to_submit

    file = ready_to_submit(company, assessor, today_is)
    guide = next(d for d in file.documents if d.kind == "guide_evaluation")
    company_scan = _deposit(company, file, kind="diplome", name="cap.pdf", on_file=False)
    assert guide.change_refusal(company) == ("Vous ne pouvez pas modifier le document « scan.pdf » "
                                             "(Guide d'évaluation (outil n°4)).")
    assert company_scan.change_refusal(assessor.user).startswith("Vous ne pouvez pas modifier le document « cap.pdf »")
    other = factories.make_user(factories.Role.ENTREPRISE)
    assert not company_scan.can_change(other)
    assert guide.can_change(assessor.user)  # the evaluation is not transmitted yet
    second = add_guide(file, assessor)
    services.delete_document(second, assessor.user)
    db.session.commit()
    from app.files import evaluation

    evaluation.submit_evaluation(file, assessor.user)
    db.session.commit()
    assert "l'évaluation est transmise" in guide.change_refusal(assessor.user)


def test_several_files_at_once_are_all_saved_or_none(company, assessor):
    from app.core.uploads import upload_dir
    from tests.files.conftest import EXE, upload

    file = new_file(company, assessor)
    before = set(upload_dir().iterdir())
    with pytest.raises(ValidationFailed) as refused:
        services.upload_documents(company, kind="dossier_candidature", candidate=file.candidate, file=file,
                                  uploads=[upload(name="a.pdf"), upload(EXE, "b.exe"), upload(b"", "c.pdf")])
    assert refused.value.errors["file"][:2] == [
        "« b.exe » : Ce fichier n'est ni un PDF, ni une image PNG ou JPEG (formats acceptés : PDF, PNG ou JPEG).",
        "« c.pdf » : Le fichier est vide."]
    assert refused.value.errors["file"][2] == "Aucun fichier n'est déposé : corrigez ou retirez ces 2 fichiers."
    db.session.rollback()
    assert set(upload_dir().iterdir()) == before and file.documents == []
    saved = services.upload_documents(company, kind="dossier_candidature", candidate=file.candidate, file=file,
                                      uploads=[upload(name="a.pdf"), upload(name="b.pdf")])
    db.session.commit()
    assert [d.filename for d in saved] == ["a.pdf", "b.pdf"] and len(file.documents) == 2
