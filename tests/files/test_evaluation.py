"""The evaluation step (app/files/evaluation.py): the job assessor's link (R3), the company's email
when both comments are in (R4), the results window (R5), the job assessor's window (R5b) and what a submission needs (R6).

Each refusal is asserted by the guard's own French message (and the status left unchanged), so a
test fails if its guard is removed."""

from __future__ import annotations

import html
import threading
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, Gone, NotFound, RuleViolation, ValidationFailed
from app.core.tokens import hash_token
from app.extensions import db
from app.files import evaluation, services
from app.files.models import FileStatus, JobAssessorInvitation, JobAssessorObservation
from tests.conftest import csrf_token
from tests.files.conftest import (
    EXE,
    INTERVIEW,
    PDF,
    add_guide,
    confirmed_file,
    day,
    draft,
    full_results,
    invite,
    new_candidate,
    new_file,
    observe,
    outbox,
    ready_to_submit,
)

# ---------------------------------------------------------------- R1: no evaluation before the assessor is confirmed


def test_r1_the_evaluation_cannot_be_saved_before_the_assessor_is_confirmed(company, assessor):
    file = new_file(company, assessor)
    with pytest.raises(Conflict, match="En attente d'évaluation"):
        evaluation.save_evaluation(file, assessor.user, interview_date=INTERVIEW, results=[])
    with pytest.raises(Conflict):
        evaluation.invite_job_assessor(file, assessor.user, email="m@x.fr", first_name="A", last_name="B")


# ---------------------------------------------------------------- R3: the job assessor first


def test_r3_no_submission_before_the_job_assessor_is_invited(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    today_is(INTERVIEW.isoformat())
    draft(file, assessor)  # results may be drafted before the invitation
    add_guide(file, assessor)
    with pytest.raises(RuleViolation, match="L'évaluateur métier n'a pas été invité."):
        evaluation.submit_evaluation(file, assessor.user)
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION


def test_r3_the_link_is_random_stored_hashed_valid_30_days_and_emailed(company, assessor):
    file = confirmed_file(company, assessor)
    invitation, token = evaluation.invite_job_assessor(file, assessor.user, email="Metier@Chimie-Test.fr",
                                                     first_name="Jules", last_name="Métier")
    db.session.commit()
    assert len(token) >= 43  # 32 random bytes, base64url
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash
    assert (invitation.expires_at - invitation.created_at).days == 30
    (email,) = outbox("job_assessor_invitation")
    assert email.recipients == "metier@chimie-test.fr"
    assert f"http://certifia.test/invitations/{token}" in email.body_text


def test_r3_a_new_invitation_replaces_the_old_link(company, assessor):
    file = confirmed_file(company, assessor)
    first = invite(file, assessor)
    second = invite(file, assessor, email="autre@chimie-test.fr")
    with pytest.raises(Gone, match="remplacé"):
        evaluation.job_assessor_invitation(first)
    assert evaluation.job_assessor_invitation(second).email == "autre@chimie-test.fr"
    assert file.current_invitation.email == "autre@chimie-test.fr"


def test_r3_the_link_works_once(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    observe(file, token)
    assert file.job_assessor_observations_in
    with pytest.raises(Gone, match="déjà été enregistrées"):
        observe(file, token)


def test_r3_the_link_expires_after_30_days(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is("2027-03-30")
    assert evaluation.job_assessor_invitation(token)
    today_is("2027-04-01")
    with pytest.raises(Gone, match="expiré"):
        observe(file, token)


def test_r3_the_spending_update_refuses_a_link_already_spent(company, assessor, today_is):
    """The conditional UPDATE itself (not only the check before it) refuses a spent link."""
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    invitation = evaluation.job_assessor_invitation(token)  # passes the check...
    db.session.execute(JobAssessorInvitation.__table__.update().values(used_at=date(2027, 3, 1)))
    with pytest.raises(Gone):  # ...but the UPDATE … WHERE used_at IS NULL matches nothing
        evaluation.submit_job_assessor_observations(token, {c.code: "x" for c in file.competences})
    assert invitation.observations == []


def test_r3_every_competence_needs_an_observation(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    with pytest.raises(ValidationFailed, match="compétence C2") as refused:
        evaluation.submit_job_assessor_observations(token, {"C1": "ok", "C2": " ", "C3": "ok"})
    assert "observation_C2" in refused.value.errors
    db.session.rollback()
    assert evaluation.job_assessor_invitation(token).used_at is None  # not spent by a refused form


# ---------------------------------------------------------------- R3: the link is spent by ONE conditional UPDATE
# Two simultaneous submissions give exactly one success (PostgreSQL: the second UPDATE waits for the
# first and then matches nothing).


@pytest.mark.postgres_only
def test_r3_two_simultaneous_submissions_of_one_link_give_exactly_one_success(app, company, assessor, today_is):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    codes = [c.code for c in file.competences]
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(name: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                evaluation.submit_job_assessor_observations(token, {code: f"vu par {name}" for code in codes})
                db.session.commit()
                outcome = "ok"
            except Gone:
                db.session.rollback()
                outcome = "gone"
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                db.session.rollback()
                outcome = f"error {type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["gone", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(JobAssessorObservation.id))) == len(codes)


# ---------------------------------------------------------------- R4: one email when both comments are in


def test_r4_company_gets_one_email_when_both_evaluators_commented(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    today_is(INTERVIEW.isoformat())
    partial = full_results(file)
    partial[-1]["comment"] = ""
    draft(file, assessor, results=partial)
    token = invite(file, assessor)
    observe(file, token)
    assert outbox("evaluators_comments_in") == []  # one assessor comment missing
    draft(file, assessor)
    (email,) = outbox("evaluators_comments_in")
    assert set(email.recipient_list) == {company.email, "contact@chimie-test.fr"}
    draft(file, assessor)  # saving again sends nothing more
    assert len(outbox("evaluators_comments_in")) == 1
    assert file.evaluation.comments_notified_at is not None


def test_r4_the_email_also_leaves_when_the_job_assessor_comes_last(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    draft(file, assessor)
    assert outbox("evaluators_comments_in") == []
    observe(file, token)
    assert len(outbox("evaluators_comments_in")) == 1


# ---------------------------------------------------------------- R5: the results window


@pytest.mark.parametrize("offset,accepted,message", [
    (-1, False, "La saisie des résultats ouvre le jour de l'entretien (10/03/2027)."),
    (0, True, None),
    (8, True, None),
    (9, False, "La saisie des résultats est close depuis le 18/03/2027 (8 jours après l'entretien)."),
])
def test_r5_draft_accepted_from_the_interview_day_to_8_days_after(company, assessor, today_is, offset, accepted,
                                                                   message):
    file = confirmed_file(company, assessor)
    today_is(day(offset))
    if accepted:
        assert draft(file, assessor).interview_date == INTERVIEW
    else:
        with pytest.raises(RuleViolation) as refused:
            draft(file, assessor)
        assert refused.value.message == message
        db.session.rollback()
        assert file.evaluation is None


@pytest.mark.parametrize("offset,accepted", [(8, True), (9, False)])
def test_r5_submission_inside_the_window_only(company, assessor, today_is, offset, accepted):
    file = ready_to_submit(company, assessor, today_is)
    today_is(day(offset))
    if accepted:
        evaluation.submit_evaluation(file, assessor.user)
        assert file.status == FileStatus.VALIDATION_EVALUATION
    else:
        with pytest.raises(RuleViolation, match="close depuis le 18/03/2027"):
            evaluation.submit_evaluation(file, assessor.user)
        assert file.status == FileStatus.EN_ATTENTE_EVALUATION


def test_r5_the_interview_cannot_precede_the_confirmation(company, assessor, today_is):
    file = confirmed_file(company, assessor)  # confirmed on 01/03/2027
    today_is("2027-03-02")
    with pytest.raises(RuleViolation, match="ne peut pas précéder la confirmation de l'évaluateur \\(01/03/2027\\)"):
        draft(file, assessor, interview=date(2027, 2, 28))


def test_r5_the_actual_interview_may_differ_from_the_planned_one(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    today_is("2027-03-05")
    assert draft(file, assessor, interview=date(2027, 3, 4)).interview_date == date(2027, 3, 4)


# ---------------------------------------------------------------- R5b: the job assessor's window


@pytest.mark.parametrize("offset,accepted,message", [
    (-1, False, "Les observations pourront être saisies à partir du 10/03/2027, jour de l'entretien, "
                "et jusqu'au 18/03/2027."),
    (0, True, None),
    (8, True, None),
    (9, False, "La saisie des observations est close depuis le 18/03/2027 (8 jours après l'entretien du "
               "10/03/2027). Si l'entretien a eu lieu à une autre date, l'évaluateur habilité enregistre la "
               "date réelle de l'entretien dans son évaluation : la saisie rouvre alors jusqu'à 8 jours "
               "après cette date."),
])
def test_r5b_observations_from_the_planned_interview_day_to_8_days_after(company, assessor, today_is, offset,
                                                                          accepted, message):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(day(offset))
    if accepted:
        observe(file, token)
        assert file.job_assessor_observations_in
    else:
        with pytest.raises(RuleViolation) as refused:
            observe(file, token)
        assert refused.value.message == message
        assert "observations" in refused.value.errors
        db.session.rollback()
        assert evaluation.job_assessor_invitation(token).used_at is None  # the link stays usable
        assert evaluation.observations_window_notice(evaluation.job_assessor_invitation(token)) == message


def test_r5b_the_actual_interview_date_sent_with_the_results_moves_the_window(company, assessor, today_is):
    file = confirmed_file(company, assessor)  # planned on 10/03/2027
    token = invite(file, assessor)
    today_is(day(12))  # 22/03: closed after the planned date...
    with pytest.raises(RuleViolation, match="close depuis le 18/03/2027"):
        observe(file, token)
    db.session.rollback()
    draft(file, assessor, interview=date(2027, 3, 20))  # ...the interview took place on 20/03
    observe(file, token)
    assert file.job_assessor_observations_in


def test_r5b_an_earlier_actual_interview_opens_the_window_earlier(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is("2027-03-05")
    with pytest.raises(RuleViolation, match="à partir du 10/03/2027"):
        observe(file, token)
    db.session.rollback()
    draft(file, assessor, interview=date(2027, 3, 4))
    observe(file, token)
    assert file.job_assessor_observations_in


# ---------------------------------------------------------------- R6: what a submission needs


def test_r6_a_complete_evaluation_is_submitted(company, assessor, today_is):
    file = ready_to_submit(company, assessor, today_is)
    evaluation.submit_evaluation(file, assessor.user)
    assert file.status == FileStatus.VALIDATION_EVALUATION
    assert file.evaluation.submitted_at is not None
    assert [h.event for h in file.history] == ["confirm_assessor", "submit_evaluation"]


@pytest.mark.parametrize("spoil,message", [
    ("result", "Le résultat de la compétence C2 n'est pas saisi."),
    ("comment", "Le commentaire de la compétence C2 n'est pas saisi."),
    ("observations", "Les observations du candidat ne sont pas saisies."),
    ("guide", "Le guide d'évaluation scanné (outil n°4) n'est pas déposé."),
    ("job_assessor", "Les observations de l'évaluateur métier ne sont pas saisies."),
])
def test_r6_submission_refused_naming_what_is_missing(company, assessor, today_is, spoil, message):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    if spoil != "job_assessor":
        observe(file, token)
    results = full_results(file)
    if spoil == "result":
        results[1]["acquired"] = None
    if spoil == "comment":
        results[1]["comment"] = ""
    draft(file, assessor, results=results, observations="" if spoil == "observations" else "Satisfait.")
    if spoil != "guide":
        add_guide(file, assessor)
    with pytest.raises(RuleViolation) as refused:
        evaluation.submit_evaluation(file, assessor.user)
    assert message in refused.value.message
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION


def test_r6_a_result_of_a_competence_outside_the_file_is_refused(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    today_is(INTERVIEW.isoformat())
    with pytest.raises(ValidationFailed, match="C7"):
        draft(file, assessor, results=[{"competence_code": "C7", "acquired": True, "comment": "x"}])


# ---------------------------------------------------------------- « Relancer » the job assessor, the invitation's state


def test_resend_sends_a_new_link_and_kills_the_old_one(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    old = invite(file, assessor)
    first = file.current_invitation
    today_is("2027-03-05")
    renewed, token = evaluation.resend_job_assessor_invitation(file, assessor.user, first.id)
    db.session.commit()
    with pytest.raises(Gone, match="remplacé"):
        evaluation.job_assessor_invitation(old)
    assert evaluation.job_assessor_invitation(token).id == renewed.id
    assert (renewed.email, renewed.first_name) == (first.email, first.first_name)
    assert renewed.expires_at.date() == date(2027, 4, 4)  # 30 days from the resend
    (email,) = outbox("job_assessor_reminder")
    assert email.recipients == "metier@chimie-test.fr" and f"/invitations/{token}" in email.body_text
    assert "du 10 mars 2027" in email.body_text  # the R5b window is in the reminder
    state = evaluation.invitation_state(file)
    assert state.sent_at.date() == date(2027, 3, 1) and [d.date() for d in state.resent_at] == [date(2027, 3, 5)]
    assert state.pending and state.state == "relancee"


def test_resend_is_refused_once_the_observations_are_in_or_for_a_replaced_or_unknown_invitation(
        company, assessor, today_is):
    file = confirmed_file(company, assessor)
    invite(file, assessor)
    first = file.current_invitation
    token = invite(file, assessor, email="autre@chimie-test.fr")
    with pytest.raises(Conflict, match="remplacée"):
        evaluation.resend_job_assessor_invitation(file, assessor.user, first.id)
    with pytest.raises(NotFound):
        evaluation.resend_job_assessor_invitation(file, assessor.user, 999999)
    today_is(INTERVIEW.isoformat())
    observe(file, token)
    with pytest.raises(Conflict, match="déjà transmis ses observations"):
        evaluation.resend_job_assessor_invitation(file, assessor.user, file.current_invitation.id)
    state = evaluation.invitation_state(file)
    assert state.received_at is not None and state.state == "observations_recues"
    assert state.resent_at == []  # another person: a new invitation, not a reminder


def test_the_invitation_state_says_when_the_link_expired(company, assessor, today_is):
    file = confirmed_file(company, assessor)
    other = confirmed_file(company, assessor, candidate=new_candidate(company, last_name="Autre"))
    invite(file, assessor)
    today_is("2027-04-01")
    state = evaluation.invitation_state(file)
    assert state.expired and state.state == "expiree" and state.invitation.expires_at.date() == date(2027, 3, 31)
    assert evaluation.invitation_state(other) is None


# ---------------------------------------------------------------- the assessor's one form (web)


def _form(file, **extra) -> dict:
    data = {"interview_date": INTERVIEW.isoformat(), "candidate_observations": "Entretien utile."}
    for c in file.competences:
        data[f"acquired_{c.code}"] = "1"
        data[f"comment_{c.code}"] = f"Tapé pour {c.code}."
    data.update(extra)
    return data


def _post(client, file, data: dict, guide: bytes | None = None):
    data = {**data, "csrf_token": csrf_token(client, f"/dossiers/{file.id}/evaluation")}
    if guide is not None:
        data["guide"] = (BytesIO(guide), "guide.pdf")
    return client.post(f"/dossiers/{file.id}/evaluation", data=data, content_type="multipart/form-data")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_guide_is_uploaded_with_the_draft_and_nothing_typed_is_lost(company, assessor, today_is, client,
                                                                        login_as):
    file = confirmed_file(company, assessor)
    today_is(INTERVIEW.isoformat())
    login_as(assessor.user)
    saved = _post(client, file, _form(file, action="brouillon"), guide=PDF)
    assert saved.status_code == 302
    db.session.expire_all()
    assert [r.comment for r in file.evaluation.results] == ["Tapé pour C1.", "Tapé pour C2.", "Tapé pour C3."]
    assert [d.kind for d in file.documents] == ["guide_evaluation"]
    page = _text(client.get(f"/dossiers/{file.id}/evaluation"))
    assert "Tapé pour C2." in page and "guide.pdf" in page


def test_a_refused_guide_keeps_the_typed_text_and_writes_nothing(company, assessor, today_is, client, login_as):
    file = confirmed_file(company, assessor)
    today_is(INTERVIEW.isoformat())
    login_as(assessor.user)
    refused = _post(client, file, _form(file, action="brouillon"), guide=EXE)
    assert refused.status_code == 422
    page = _text(refused)
    assert "Tapé pour C3." in page and "Entretien utile." in page
    assert 'id="guide-erreur"' in page and "Fichier du guide d'évaluation scanné (outil n°4)" in page
    db.session.expire_all()
    assert file.evaluation is None and file.documents == []


def test_transmettre_saves_what_is_typed_then_transmits(company, assessor, today_is, client, login_as):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    observe(file, token)
    login_as(assessor.user)
    sent = _post(client, file, _form(file, action="transmettre"), guide=PDF)
    assert sent.status_code == 302
    db.session.expire_all()
    assert file.status == FileStatus.VALIDATION_EVALUATION
    assert file.evaluation.submitted_at is not None
    assert [r.comment for r in file.evaluation.results][0] == "Tapé pour C1."


def test_a_refused_transmission_names_every_missing_item_and_keeps_the_draft(company, assessor, today_is, client,
                                                                             login_as):
    file = confirmed_file(company, assessor)
    invite(file, assessor)
    today_is(INTERVIEW.isoformat())
    login_as(assessor.user)
    refused = _post(client, file, _form(file, action="transmettre", comment_C2="", candidate_observations=""))
    assert refused.status_code == 200  # the draft is saved (committed); the transmission is not done
    page = _text(refused)
    assert "Brouillon enregistré, mais l'évaluation n'est pas transmise : il manque ces 4 points" in page
    for message in ("Les observations de l'évaluateur métier ne sont pas saisies.",
                    "Le commentaire de la compétence C2 n'est pas saisi.",
                    "Les observations du candidat ne sont pas saisies.",
                    "Le guide d'évaluation scanné (outil n°4) n'est pas déposé."):
        assert message in page
    assert 'href="#comment_C2"' in page and 'href="#guide"' in page
    assert "Tapé pour C1." in page and "Tapé pour C3." in page
    db.session.expire_all()
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION
    assert file.evaluation.result_for(file.competences[0]).comment == "Tapé pour C1."


def test_the_form_shows_the_planned_date_the_observations_and_the_invitation_state(company, assessor, today_is,
                                                                                    client, login_as):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    login_as(assessor.user)
    before = _text(client.get(f"/dossiers/{file.id}/evaluation"))
    assert 'value="2027-03-10"' in before  # the planned interview date, pre-filled
    assert "La date de l'entretien n'est pas renseignée." not in before  # the form saves the pre-filled date
    assert "invitation envoyée le 1er mars 2027" in before and "Relancer Jules Métier" in before
    assert "pas encore reçue" in before
    today_is(INTERVIEW.isoformat())
    observe(file, token)
    after = _text(client.get(f"/dossiers/{file.id}/evaluation"))
    assert "Vu au poste (C1)." in after and "Vu au poste (C3)." in after
    assert "observations reçues le 10 mars 2027" in after and "Relancer" not in after


def test_after_the_window_the_page_says_how_a_new_actual_date_reopens_it(company, assessor, today_is, client,
                                                                         login_as):
    file = confirmed_file(company, assessor)
    today_is(day(9))
    login_as(assessor.user)
    page = _text(client.get(f"/dossiers/{file.id}/evaluation"))
    assert "La saisie est close depuis le 18 mars 2027" in page
    assert 'saisissez ci-dessous sa <a href="#interview_date">date réelle</a>' in page and "la saisie rouvre jusqu'à 8 jours après cette date" in page
    reopened = _post(client, file, _form(file, action="brouillon", interview_date=day(2)))
    assert reopened.status_code == 302
    db.session.expire_all()
    assert file.interview_date == date(2027, 3, 12)
    assert "La saisie est close" not in _text(client.get(f"/dossiers/{file.id}/evaluation"))


def test_relancer_from_the_page(company, assessor, today_is, client, login_as):
    file = confirmed_file(company, assessor)
    old = invite(file, assessor)
    invitation = file.current_invitation
    login_as(assessor.user)
    url = f"/dossiers/{file.id}/evaluateur-metier/{invitation.id}/relancer"
    sent = client.post(url, data={"csrf_token": csrf_token(client, f"/dossiers/{file.id}/evaluation"),
                                  "back": "evaluation"})
    assert sent.status_code == 303 and sent.location.endswith(f"/dossiers/{file.id}/evaluation")
    page = _text(client.get(f"/dossiers/{file.id}/evaluation"))
    assert "Relance envoyée à Jules Métier" in page and "relancée le 1er mars 2027" in page
    assert client.get(f"/invitations/{old}").status_code == 410
    again = client.post(url, data={"csrf_token": csrf_token(client, f"/dossiers/{file.id}/evaluation"),
                                   "back": "evaluation"})
    assert again.status_code == 303
    assert "remplacée par une plus récente" in _text(client.get(f"/dossiers/{file.id}/evaluation"))


# ---------------------------------------------------------------- « Dossiers à évaluer »: only what waits for the assessor


def test_the_assessor_list_shows_only_the_files_to_evaluate_under_its_heading(company, assessor, today_is, client,
                                                                               login_as):
    waiting = confirmed_file(company, assessor, candidate=new_candidate(company, last_name="Attente"))
    new_file(company, assessor, candidate=new_candidate(company, last_name="Inscription"))
    sent = ready_to_submit(company, assessor, today_is)
    evaluation.submit_evaluation(sent, assessor.user)
    db.session.commit()
    gone = confirmed_file(company, assessor, candidate=new_candidate(company, last_name="Dubois"))
    services.withdraw(gone, company, "Départ de l'entreprise")
    db.session.commit()
    login_as(assessor.user)
    page = _text(client.get("/evaluateur/dossiers"))
    to_evaluate, rest = page.split('<section aria-labelledby="h-a-evaluer">')[1].split('id="h-autres"')
    others, closed = rest.split('id="h-clos"')
    assert "Dossiers à évaluer (1)" in to_evaluate and "Attente" in to_evaluate
    assert "Martin" not in to_evaluate and "Dubois" not in to_evaluate and "Inscription" not in to_evaluate
    assert "Autres dossiers en cours (2)" in others and "Inscription" in others and "Martin" in others
    assert "Dossiers clos (1)" in closed and "Dubois" in closed
    assert f"/dossiers/{waiting.id}/evaluation" in to_evaluate
    searched = _text(client.get("/evaluateur/dossiers?q=dubois"))
    assert "Dossiers à évaluer (0)" in searched and "Aucun dossier n'attend votre évaluation pour ces critères" in searched
    filtered = _text(client.get("/evaluateur/dossiers?status=abandonne"))
    assert "Dossiers « Abandonné » (1)" in filtered and "Attente" not in filtered


def test_relancer_from_the_home_goes_back_to_it(company, assessor, client, login_as):
    file = confirmed_file(company, assessor)
    invite(file, assessor)
    login_as(assessor.user)
    sent = client.post(f"/dossiers/{file.id}/evaluateur-metier/{file.current_invitation.id}/relancer",
                       data={"csrf_token": csrf_token(client, "/evaluateur"), "back": "accueil"})
    assert sent.status_code == 303 and sent.location.endswith("/evaluateur")
    assert len(outbox("job_assessor_reminder")) == 1
