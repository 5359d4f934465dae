"""The job assessor's invitations through the API (docs/api.md): their state, and « relancer » (a new link to
the same person, the old one dead)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.files.evaluation import JOB_ASSESSOR_INVITATION_DAYS
from tests.api.test_files import problem_of, world  # noqa: F401 (fixture)
from tests.files.conftest import INTERVIEW, confirmed_file, invite, observe, outbox


def test_resend_gives_a_new_link_and_the_old_one_dies(world, api_as, today_is):  # noqa: F811
    file = confirmed_file(world["company"], world["assessor"])
    old = invite(file, world["assessor"])
    first_id = file.current_invitation.id
    assessor_api = api_as(world["assessor"].user)
    today_is("2027-03-04")
    resent = assessor_api.post(f"/files/{file.id}/job-assessor-invitations/{first_id}/resend")
    assert resent.status_code == 201, resent.json
    assert resent.json["id"] != first_id and resent.json["email"] == "metier@chimie-test.fr"
    assert resent.json["state"] == "en_attente"
    # The clock's time of day is the real one: read the instants in UTC rather than the date the Paris offset shows.
    created = datetime.fromisoformat(resent.json["created_at"]).astimezone(UTC)
    expires = datetime.fromisoformat(resent.json["expires_at"]).astimezone(UTC)
    assert created.date() == date(2027, 3, 4) and expires - created == timedelta(days=JOB_ASSESSOR_INVITATION_DAYS)
    assert len(outbox("job_assessor_reminder")) == 1
    gone = api_as(None).post(f"/invitations/{old}/observations",
                             json={"observations": [{"competence_code": "C1", "comment": "x"}]})
    assert "remplacé" in problem_of(gone, 410)["detail"]
    listed = assessor_api.get(f"/files/{file.id}/job-assessor-invitations")
    assert [i["state"] for i in listed.json] == ["remplacee", "en_attente"]
    again = assessor_api.post(f"/files/{file.id}/job-assessor-invitations/{first_id}/resend")
    assert "remplacée par une plus récente" in problem_of(again, 409)["detail"]


def test_resend_refused_once_the_observations_are_in_unknown_or_by_someone_else(world, api_as, today_is):  # noqa: F811
    file = confirmed_file(world["company"], world["assessor"])
    token = invite(file, world["assessor"])
    assessor_api = api_as(world["assessor"].user)
    assert problem_of(assessor_api.post(f"/files/{file.id}/job-assessor-invitations/999999/resend"), 404)
    assert problem_of(api_as(world["company"]).post(
        f"/files/{file.id}/job-assessor-invitations/{file.current_invitation.id}/resend"), 403)
    today_is(INTERVIEW.isoformat())
    observe(file, token)
    done = assessor_api.post(f"/files/{file.id}/job-assessor-invitations/{file.current_invitation.id}/resend")
    assert "déjà transmis ses observations" in problem_of(done, 409)["detail"]
    assert assessor_api.get(f"/files/{file.id}/job-assessor-invitations").json[-1]["state"] == "observations_recues"


def test_submit_evaluation_with_a_body_saves_it_first_and_a_refusal_saves_nothing(world, api_as, today_is):  # noqa: F811
    from app.extensions import db
    from tests.files.conftest import add_guide

    file = confirmed_file(world["company"], world["assessor"])
    token = invite(file, world["assessor"])
    today_is(INTERVIEW.isoformat())
    assessor_api = api_as(world["assessor"].user)
    body = {"interview_date": INTERVIEW.isoformat(), "candidate_observations": "Satisfait.",
            "results": [{"competence_code": c.code, "acquired": True, "comment": f"Vu {c.code}"}
                        for c in file.competences]}
    refused = assessor_api.post(f"/files/{file.id}/submit-evaluation", json=body)
    problem = problem_of(refused, 422)
    assert "Les observations de l'évaluateur métier ne sont pas saisies." in problem["detail"]
    assert "outil n°4" in problem["detail"]
    db.session.expire_all()
    assert file.evaluation is None  # nothing of the refused call is kept
    observe(file, token)
    add_guide(file, world["assessor"])
    sent = assessor_api.post(f"/files/{file.id}/submit-evaluation", json=body)
    assert sent.status_code == 200 and sent.json["status"] == "validation_evaluation"
    db.session.expire_all()
    assert [r.comment for r in file.evaluation.results] == ["Vu C1", "Vu C2", "Vu C3"]
