"""Facts and permissions on the files' models (app/files/models.py): the hybrids say the same in
Python and in SQL, and each permission method answers for every kind of viewer and every status —
a company of another establishment, another candidate, an assessor not of the file, a jury member
not on the file's session get False."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core.clock import now, today
from app.extensions import db
from app.files.models import DECISION_STATUSES, FINAL_STATUSES, CandidateFile, Evaluation, FileStatus
from tests import factories

S = FileStatus


# ---------------------------------------------------------------- facts: Python and SQL agree


def test_interview_date_is_the_actual_date_else_the_planned_one_in_python_and_in_sql(app_ctx):
    planned_only = factories.make_file(interview_date=date(2027, 5, 3))
    actual = factories.make_file(interview_date=date(2027, 5, 3))
    db.session.add(Evaluation(file=actual, interview_date=date(2027, 5, 6)))
    draft_without_date = factories.make_file(interview_date=date(2027, 5, 4))
    db.session.add(Evaluation(file=draft_without_date, interview_date=None))
    no_date = factories.make_file()
    no_date.planned_interview_date = None
    db.session.commit()
    expected = {planned_only.id: date(2027, 5, 3), actual.id: date(2027, 5, 6),
                draft_without_date.id: date(2027, 5, 4), no_date.id: None}
    assert {f.id: f.interview_date for f in (planned_only, actual, draft_without_date, no_date)} == expected
    in_sql = dict(db.session.execute(select(CandidateFile.id, CandidateFile.interview_date)).all())
    assert in_sql == expected
    assert set(db.session.scalars(select(CandidateFile.id).where(CandidateFile.interview_date > date(2027, 5, 3)))) \
        == {actual.id, draft_without_date.id}


def test_is_published_follows_the_sessions_publication_in_python_and_in_sql(app_ctx):
    registering = factories.make_file()
    held = factories.make_session(on=today() - timedelta(days=3))
    unpublished = factories.make_file(S.VALIDE, session=held)
    published_session = factories.make_session(on=today() - timedelta(days=3), published_at=now())
    published = factories.make_file(S.PARTIEL, session=published_session)
    files = (registering, unpublished, published)
    assert [f.is_published for f in files] == [False, False, True]
    assert list(db.session.scalars(select(CandidateFile.id).where(CandidateFile.is_published))) == [published.id]
    assert set(db.session.scalars(select(CandidateFile.id).where(~CandidateFile.is_published))) \
        == {registering.id, unpublished.id}


def test_a_files_facts_read_its_step(app_ctx):
    file = factories.make_file(S.NON_VALIDE)
    assert file.is_final and file.is_decided and file.status_label == "Non validé"
    abandoned = factories.make_file(S.ABANDONNE)
    assert abandoned.is_final and not abandoned.is_decided
    assert not factories.make_file(S.INSCRIPTION_JURY).is_final


def test_result_for_a_competence_and_the_job_assessors_observations(app_ctx):
    file = factories.make_file(S.VALIDATION_EVALUATION)
    first, *_ = file.competences
    assert file.evaluation.result_for(first).acquired is True
    assert file.job_assessor_observations == {c.id: "Maîtrisé au poste." for c in file.competences}
    later = factories.make_invitation(file, used=True)
    assert file.job_assessor_observations == {c.id: "Vu au poste." for c in file.competences}  # the latest
    assert file.current_invitation is later


# ---------------------------------------------------------------- permissions: viewer × status

VIEWERS = ("company", "other_company", "candidate", "other_candidate", "assessor", "other_assessor", "jury",
           "other_jury", "secretariat", "partner", "anonymous")
CASES = [(status, False) for status in S] + [(status, True) for status in DECISION_STATUSES]
IN_SESSION = (S.INSCRIPTION_JURY, *DECISION_STATUSES)


def expected(viewer: str, status: FileStatus, published: bool) -> dict:
    """The permissions as docs/design.md states them, written independently of the model's code."""
    owner = viewer == "company"
    secretariat = viewer == "secretariat"
    sits = viewer == "jury" and status in IN_SESSION
    views = secretariat or owner or viewer in ("candidate", "assessor") or sits
    shown_decision = status in DECISION_STATUSES and not published and viewer not in ("secretariat", "jury",
                                                                                       "other_jury")
    return {
        "can_view": views,
        "can_edit": owner and status == S.EN_COURS_INSCRIPTION,
        "can_withdraw": (owner or secretariat) and status not in FINAL_STATUSES,
        "can_register": (owner or secretariat) and status == S.VALIDATION_EVALUATION,
        "can_unregister": (owner or secretariat) and status == S.INSCRIPTION_JURY,
        "can_evaluate": viewer == "assessor" and status == S.EN_ATTENTE_EVALUATION,
        "can_see_evaluation": views and viewer != "candidate",
        "can_decide": secretariat and status in IN_SESSION,
        "can_download_parchment": status in (S.VALIDE, S.PARTIEL) and (secretariat or (owner and published)),
        "visible_status_for": S.INSCRIPTION_JURY.value if shown_decision else status.value,
    }


@pytest.fixture
def viewers(app_ctx):
    establishment = factories.make_establishment()
    candidate_user = factories.make_user(Role.CANDIDAT)
    assessor = factories.make_assessor()
    return {
        "establishment": establishment,
        "candidate": factories.make_candidate(establishment, user=candidate_user),
        "file_assessor": assessor,
        "users": {
            "company": factories.make_user(Role.ENTREPRISE, establishment=establishment),
            "other_company": factories.make_user(Role.ENTREPRISE),
            "candidate": candidate_user,
            "other_candidate": factories.make_user(Role.CANDIDAT),
            "assessor": assessor.user,
            "other_assessor": factories.make_assessor().user,
            "jury": factories.make_user(Role.JURY),
            "other_jury": factories.make_user(Role.JURY),
            "secretariat": factories.make_user(Role.SECRETARIAT),
            "partner": factories.make_user(Role.PARTENAIRE),
            "anonymous": None,
        },
    }


@pytest.mark.parametrize("status,published", CASES,
                         ids=[f"{s.value}{'-publie' if p else ''}" for s, p in CASES])
def test_each_permission_for_each_viewer(viewers, status, published):
    users = viewers["users"]
    session = None
    if status in IN_SESSION:
        session = factories.make_session(on=today() - timedelta(days=2), published_at=now() if published else None)
        factories.sit_on(session, users["jury"])
        factories.sit_on(factories.make_session(), users["other_jury"])  # sits on another session
    file = factories.make_file(status, candidate=viewers["candidate"], assessor=viewers["file_assessor"],
                               session=session)
    if status in (S.VALIDE, S.PARTIEL):
        factories.make_parchment(file)
    wrong = []
    for viewer in VIEWERS:
        user = users[viewer]
        for method, wanted in expected(viewer, status, published).items():
            got = getattr(file, method)(user)
            if got != wanted:
                wrong.append((viewer, method, got, wanted))
    assert wrong == []


def test_the_scopes_list_what_can_view_allows(viewers):
    """visible_to(user) (SQL) and can_view(user) (Python) agree on every file, for every viewer."""
    users = viewers["users"]
    session = factories.sit_on(factories.make_session(on=today() - timedelta(days=2)), users["jury"])
    # One CQP per status: a candidate has one open file per CQP (R12b).
    cqps = ["FAB-OPF", "FAB-CEF", "FAB-PIF", "FAB-ANF", "CND-CLC", "CND-PLC", "CND-ANC", "LOG-AGL", "LOG-ANL"]
    files = [factories.make_file(status, candidate=viewers["candidate"], assessor=viewers["file_assessor"],
                                 cqp_code=cqps[n], session=session if status in IN_SESSION else None)
             for n, status in enumerate(S)]
    files.append(factories.make_file(S.EN_COURS_INSCRIPTION))  # someone else's
    for viewer in VIEWERS:
        user = users[viewer]
        listed = set(db.session.scalars(CandidateFile.visible_to(user).with_only_columns(CandidateFile.id)))
        assert listed == {f.id for f in files if f.can_view(user)}, viewer


def test_the_candidates_scope_and_who_corrects_a_civil_status(viewers):
    from app.files.models import Candidate

    users = viewers["users"]
    candidate = viewers["candidate"]
    factories.make_file(S.EN_ATTENTE_EVALUATION, candidate=candidate, assessor=viewers["file_assessor"])
    stranger = factories.make_candidate()
    for viewer in VIEWERS:
        listed = set(db.session.scalars(Candidate.visible_to(users[viewer]).with_only_columns(Candidate.id)))
        wanted = {candidate.id} if viewer in ("company", "candidate", "assessor") else set()
        if viewer == "secretariat":
            wanted = {candidate.id, stranger.id}
        assert listed == wanted, viewer
    assert [v for v in VIEWERS if candidate.can_edit(users[v])] == ["company", "candidate"]


def test_an_unpublished_decision_is_left_out_of_the_history_shown(viewers):
    users = viewers["users"]
    session = factories.make_session(on=today() - timedelta(days=2))
    file = factories.make_file(S.INSCRIPTION_JURY, candidate=viewers["candidate"], session=session)
    from app.files.models import StatusChange

    file.history.extend([
        StatusChange(from_status="validation_evaluation", to_status="inscription_jury", event="register_jury"),
        StatusChange(from_status="inscription_jury", to_status="valide", event="record_decision"),
    ])
    file.status = S.VALIDE.value
    db.session.commit()
    assert [h.event for h in file.visible_history_for(users["company"])] == ["register_jury"]
    assert [h.event for h in file.visible_history_for(users["secretariat"])] == ["register_jury", "record_decision"]
    session.published_at = now()
    db.session.commit()
    assert [h.event for h in file.visible_history_for(users["company"])] == ["register_jury", "record_decision"]
