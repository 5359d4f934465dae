"""What a file waits for, and from whom (app/files/progress.py): each status, told to each viewer —
« vous » for the one who must act, the others reading who and what; an unpublished decision tells
the company and the candidate nothing more than « publication des résultats du jury » (R10)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.accounts.models import Role
from app.core.clock import now, today
from app.extensions import db
from app.files.models import FileStatus
from app.files.progress import NextAction, missing_items, next_action, since_text
from tests import factories

S = FileStatus


@pytest.fixture
def people(app_ctx, today_is):
    today_is("2027-03-01")
    establishment = factories.make_establishment()
    candidate_user = factories.make_user(Role.CANDIDAT)
    assessor = factories.make_assessor()
    return {
        "candidate": factories.make_candidate(establishment, user=candidate_user),
        "file_assessor": assessor,
        "company": factories.make_user(Role.ENTREPRISE, establishment=establishment),
        "other_company": factories.make_user(Role.ENTREPRISE),
        "candidat": candidate_user,
        "assessor": assessor.user,
        "jury": factories.make_user(Role.JURY),
        "other_jury": factories.make_user(Role.JURY),
        "secretariat": factories.make_user(Role.SECRETARIAT),
    }


def make(people, status, **kwargs):
    return factories.make_file(status, candidate=people["candidate"], assessor=people["file_assessor"], **kwargs)


def told(file, people) -> dict:
    """{viewer: (waiting_for, action)} for every viewer (None when nothing is awaited)."""
    result = {}
    for viewer in ("company", "other_company", "candidat", "assessor", "jury", "other_jury", "secretariat"):
        action = next_action(file, people[viewer])
        result[viewer] = (action.waiting_for, action.action) if action else None
    return result


def everyone(value, **but) -> dict:
    return {viewer: but.get(viewer, value)
            for viewer in ("company", "other_company", "candidat", "assessor", "jury", "other_jury", "secretariat")}


# ---------------------------------------------------------------- each status, each viewer


def test_being_registered_waits_for_the_company(people):
    file = make(people, S.EN_COURS_INSCRIPTION)
    assert told(file, people) == everyone(("l'entreprise", "confirmation de l'évaluateur"),
                                          company=("vous", "confirmer l'évaluateur"))
    assert next_action(file, people["company"]).missing == []


def test_the_company_is_told_how_many_elements_are_missing(people):
    file = make(people, S.EN_COURS_INSCRIPTION)
    file.training_scheme = None
    one = next_action(file, people["company"])
    assert one.action == "compléter le dossier (1 élément manquant) puis confirmer l'évaluateur"
    assert one.missing == ["Le dispositif de formation n'est pas renseigné."]
    file.training_path = None
    two = next_action(file, people["company"])
    assert two.action == "compléter le dossier (2 éléments manquants) puis confirmer l'évaluateur"
    assert len(two.missing) == 2
    assert next_action(file, people["secretariat"]).missing == []  # told to the one who acts only
    db.session.rollback()


def test_the_evaluation_first_waits_for_the_assessors_invitation(people):
    file = make(people, S.EN_ATTENTE_EVALUATION)
    assert told(file, people) == everyone(("l'évaluateur habilité", "invitation de l'évaluateur métier"),
                                          assessor=("vous", "inviter l'évaluateur métier"))
    assert "L'évaluateur métier n'a pas été invité." in next_action(file, people["assessor"]).missing
    assert next_action(file, people["company"]).since == file.status_changed_at


def test_then_for_the_job_assessors_observations(people):
    file = make(people, S.EN_ATTENTE_EVALUATION)
    invitation = factories.make_invitation(file)
    assert told(file, people) == everyone(("l'évaluateur métier", "observations"))
    assert next_action(file, people["assessor"]).since == invitation.created_at


def test_then_for_the_assessors_evaluation(people, today_is):
    file = make(people, S.EN_ATTENTE_EVALUATION, interview_date=date(2027, 3, 3))
    invitation = factories.make_invitation(file, used=True)
    assert told(file, people) == everyone(
        ("l'évaluateur habilité", "saisie et transmission de l'évaluation"),
        assessor=("vous", "saisir l'évaluation (4 éléments manquants) puis la transmettre"))
    mine = next_action(file, people["assessor"])
    assert mine.since == invitation.used_at
    # One line per kind of item; the planned date stands for the interview's (never « non renseignée »).
    assert mine.missing == [
        "Résultats non saisis pour les compétences C1, C2 et C3.", "Les observations du candidat ne sont pas saisies.",
        "Le guide d'évaluation scanné (outil n°4) n'est pas déposé.",
        "La saisie des résultats ouvre le jour de l'entretien (03/03/2027)."]


def test_a_complete_evaluation_waits_to_be_sent(people, today_is):
    file = factories.make_file(S.VALIDATION_EVALUATION, candidate=people["candidate"],
                               assessor=people["file_assessor"])
    file.status = S.EN_ATTENTE_EVALUATION.value  # everything R6 asks for, not sent yet
    file.evaluation.submitted_at = None
    file.evaluation.interview_date = today()
    db.session.commit()
    assert [d.kind for d in file.documents] == ["guide_evaluation"]
    mine = next_action(file, people["assessor"])
    assert (mine.waiting_for, mine.action, mine.missing) == ("vous", "transmettre l'évaluation", [])


def test_a_validated_evaluation_waits_for_the_companys_registration(people):
    file = make(people, S.VALIDATION_EVALUATION)
    assert told(file, people) == everyone(("l'entreprise", "inscription du candidat à une session de jury"),
                                          company=("vous", "inscrire le candidat à une session de jury"))


def test_a_registered_file_waits_for_the_jury_whose_members_are_told_it_is_theirs(people):
    session = factories.sit_on(factories.make_session(on=date(2027, 4, 20)), people["jury"])
    file = make(people, S.INSCRIPTION_JURY, session=session)
    assert told(file, people) == everyone(("le jury", "session du 20/04/2027"),
                                          jury=("vous", "siéger à la session du 20/04/2027"))


def test_after_the_jury_the_secretariat_records_the_decision_the_others_wait_for_the_results(people):
    session = factories.sit_on(factories.make_session(on=date(2027, 2, 26)), people["jury"])
    file = make(people, S.INSCRIPTION_JURY, session=session)
    publication = ("le secrétariat", "publication des résultats du jury")
    assert told(file, people) == everyone(publication, secretariat=("vous", "saisir la décision du jury"),
                                          jury=("le secrétariat", "saisie de la décision du jury"),
                                          other_jury=("le secrétariat", "saisie de la décision du jury"))
    assert next_action(file, people["company"]).since == date(2027, 2, 26)


@pytest.mark.parametrize("status", [S.VALIDE, S.PARTIEL, S.NON_VALIDE])
def test_an_unpublished_decision_tells_the_company_and_the_candidate_nothing_more(people, status):
    session = factories.sit_on(factories.make_session(on=date(2027, 2, 26)), people["jury"])
    decided = make(people, status, session=session)
    waiting = make(people, S.INSCRIPTION_JURY, session=session)
    for viewer in ("company", "candidat", "assessor", "other_company"):
        assert next_action(decided, people[viewer]) == next_action(waiting, people[viewer]), viewer
    assert told(decided, people) == everyone(("le secrétariat", "publication des résultats du jury"),
                                             secretariat=("vous", "publier les résultats du jury"))


@pytest.mark.parametrize("status", [S.VALIDE, S.PARTIEL, S.NON_VALIDE])
def test_a_published_decision_waits_for_nothing(people, status):
    session = factories.make_session(on=date(2027, 2, 26), published_at=now())
    assert told(make(people, status, session=session), people) == everyone(None)


def test_an_abandoned_file_waits_for_nothing(people):
    assert told(make(people, S.ABANDONNE), people) == everyone(None)


def test_an_anonymous_viewer_reads_who_is_awaited(people):
    assert next_action(make(people, S.EN_COURS_INSCRIPTION), None).waiting_for == "l'entreprise"
    assert next_action(make(people, S.EN_ATTENTE_EVALUATION, cqp_code="FAB-CEF"), None).waiting_for \
        == "l'évaluateur habilité"  # another CQP: one open file per candidate and CQP (R12b)


# ---------------------------------------------------------------- the texts


def test_the_texts_of_an_action(app_ctx, today_is):
    today_is("2027-03-10")
    assert NextAction("vous", "confirmer l'évaluateur", datetime(2027, 3, 10, 9, 0)).text \
        == "À vous : confirmer l'évaluateur (depuis aujourd'hui)"
    assert NextAction("vous", "confirmer l'évaluateur", None).text == "À vous : confirmer l'évaluateur"
    assert NextAction("l'évaluateur métier", "observations", date(2027, 3, 1)).text \
        == "En attente de l'évaluateur métier depuis 9 jours"
    assert NextAction("le secrétariat", "publication", date(2027, 3, 9)).text == "En attente du secrétariat depuis 1 jour"
    assert NextAction("le jury", "session du 20/04/2027", None).text == "En attente du jury"
    assert NextAction("l'évaluateur métier", "observations", None).summary == "L'évaluateur métier : observations"
    assert NextAction("vous", "confirmer l'évaluateur", None).summary == "Vous : confirmer l'évaluateur"
    assert NextAction("vous", "x", None).yours and not NextAction("le jury", "x", None).yours


def test_since_text_counts_whole_days(app_ctx, today_is):
    today_is("2027-03-10")
    assert since_text(None) == ""
    assert since_text(date(2027, 3, 12)) == "depuis aujourd'hui"
    assert since_text(date(2027, 3, 9), on=date(2027, 3, 10)) == "depuis 1 jour"
    assert since_text(datetime(2027, 3, 1, 23, 59) + timedelta(seconds=1)) == "depuis 9 jours"


# ---------------------------------------------------------------- « Ce qu'il manque »: who must act, one line per kind


def lines(file, viewer) -> list[tuple[str, str]]:
    return [(m.who, m.text) for m in missing_items(file, viewer)]


def test_what_the_registration_lacks_is_the_companys(people):
    file = make(people, S.EN_COURS_INSCRIPTION)
    file.training_scheme = None
    file.planned_interview_date = None
    expected = [("Le dispositif de formation n'est pas renseigné."), ("La date d'entretien prévue n'est pas renseignée.")]
    assert lines(file, people["company"]) == [("vous", text) for text in expected]
    assert lines(file, people["secretariat"]) == [("l'entreprise", text) for text in expected]
    assert missing_items(file, people["company"])[0].who_label == "Vous"
    assert missing_items(file, people["secretariat"])[0].who_label == "L'entreprise"
    db.session.rollback()


def test_what_the_evaluation_lacks_names_the_assessor_and_the_job_assessor(people):
    file = make(people, S.EN_ATTENTE_EVALUATION, interview_date=date(2027, 3, 1))
    assert lines(file, people["company"]) == [
        ("l'évaluateur habilité", "L'évaluateur métier n'a pas été invité."),
        ("l'évaluateur habilité", "Résultats non saisis pour les compétences C1, C2 et C3."),
        ("l'évaluateur habilité", "Les observations du candidat ne sont pas saisies."),
        ("l'évaluateur habilité", "Le guide d'évaluation scanné (outil n°4) n'est pas déposé.")]
    factories.make_invitation(file)
    db.session.expire(file, ["invitations"])
    told_company = lines(file, people["company"])
    assert told_company[0] == ("l'évaluateur métier", "Observations sur les compétences non saisies.")
    told_assessor = lines(file, people["assessor"])
    assert told_assessor[0][0] == "l'évaluateur métier" and {who for who, _ in told_assessor[1:]} == {"vous"}


def test_the_planned_interview_date_is_never_said_missing(people):
    file = make(people, S.EN_ATTENTE_EVALUATION, interview_date=date(2027, 3, 1))
    texts = [text for _, text in lines(file, people["assessor"])]
    assert not any("date de l'entretien" in text.lower() for text in texts), texts
    file.planned_interview_date = None  # neither planned nor actual: then it is said
    assert ("vous", "La date de l'entretien n'est pas renseignée.") in lines(file, people["assessor"])
    db.session.rollback()


def test_results_and_comments_missing_are_one_line_each(people, today_is):
    from app.files.models import Evaluation, EvaluationResult

    file = make(people, S.EN_ATTENTE_EVALUATION, interview_date=date(2027, 3, 1))
    factories.make_invitation(file, used=True)
    c1, c2, c3 = file.competences
    evaluation = Evaluation(file=file, interview_date=date(2027, 3, 1), candidate_observations="Bien.")
    evaluation.results = [EvaluationResult(competence=c1, acquired=True, comment="Acquis."),
                          EvaluationResult(competence=c2, acquired=False, comment=None)]
    db.session.add(evaluation)
    db.session.commit()
    assert lines(file, people["assessor"]) == [
        ("vous", "Résultat non saisi pour la compétence C3."),
        ("vous", "Commentaire non saisi pour la compétence C2."),
        ("vous", "Le guide d'évaluation scanné (outil n°4) n'est pas déposé.")]


@pytest.mark.parametrize("status", [S.VALIDATION_EVALUATION, S.INSCRIPTION_JURY, S.ABANDONNE])
def test_nothing_is_listed_missing_at_the_other_steps(people, status):
    assert missing_items(make(people, status), people["company"]) == []
