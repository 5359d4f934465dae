"""Single-use links (app/core/links.py): one rule for the three kinds the app emails — the password
link, the candidate's invitation and the job assessor's invitation. Each case runs on all three,
through the service that issues them, with each kind's own French messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import OneTimeToken
from app.core import clock
from app.core.errors import Gone, NotFound
from app.core.links import SingleUseLinks
from app.core.tokens import hash_token
from app.extensions import db
from app.files import candidates, evaluation
from app.files.models import FileStatus, JobAssessorInvitation
from tests import factories


@dataclass
class Kind:
    links: SingleUseLinks
    lifetime: timedelta
    issue: Callable[[], str]  # a new link for the same person (or file): its raw token
    issue_elsewhere: Callable[[], str]  # a link of another person (or file)
    criteria: tuple = ()

    def find(self, token: str):
        return self.links.find(token, *self.criteria)

    def count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self.links.model))


def _password() -> Kind:
    user, other = factories.make_user("jury"), factories.make_user("partenaire")

    def token_of(link: str) -> str:
        return link.rsplit("/", 1)[1]

    return Kind(accounts.PASSWORD_LINKS, timedelta(days=7),
                lambda: token_of(accounts.issue_password_link(user)),
                lambda: token_of(accounts.issue_password_link(other)),
                (OneTimeToken.purpose.in_((accounts.SET_PASSWORD, accounts.RESET_PASSWORD)),))


def _candidate() -> Kind:
    company = factories.make_user("entreprise")
    candidate = factories.make_candidate(company.establishment)
    other = factories.make_candidate(company.establishment)
    return Kind(candidates.CANDIDATE_LINKS, timedelta(days=candidates.CANDIDATE_INVITATION_DAYS),
                lambda: candidates.invite_candidate(candidate, company, "camille@perso.fr"),
                lambda: candidates.invite_candidate(other, company, "autre@perso.fr"),
                (OneTimeToken.purpose == candidates.CANDIDATE_INVITATION,))


def _job_assessor() -> Kind:
    file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
    other = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)

    def invite(f) -> str:
        return evaluation.invite_job_assessor(f, f.assessor.user, email="metier@usine.fr", first_name="Jo",
                                              last_name="Métier")[1]

    return Kind(evaluation.JOB_ASSESSOR_LINKS, timedelta(days=evaluation.JOB_ASSESSOR_INVITATION_DAYS),
                lambda: invite(file), lambda: invite(other))


@pytest.fixture(params=[_password, _candidate, _job_assessor], ids=["mot de passe", "candidat", "évaluateur métier"])
def kind(request, app_ctx) -> Kind:
    return request.param()


def test_a_link_is_random_stored_hashed_and_lives_for_its_lifetime(kind):
    token = kind.issue()
    link = kind.find(token)
    assert len(token) >= 43 and link.token_hash == hash_token(token) and token not in link.token_hash
    assert link.expires_at - link.created_at == kind.lifetime
    assert (link.used_at, link.replaced_at) == (None, None)


def test_an_unknown_token_is_404(kind):
    kind.issue()
    with pytest.raises(NotFound) as unknown:
        kind.find("pas-un-jeton")
    assert unknown.value.message == kind.links.unknown and unknown.value.status_code == 404


def test_a_link_is_spent_once(kind):
    token = kind.issue()
    link = kind.find(token)
    kind.links.spend(link)
    assert link.used_at is not None
    with pytest.raises(Gone) as used:
        kind.find(token)
    assert used.value.message == kind.links.used and used.value.status_code == 410


def test_the_spending_update_refuses_a_link_spent_since_it_was_found(kind):
    """The conditional UPDATE itself refuses (another request spent the link after this one found it)."""
    token = kind.issue()
    found = kind.find(token)
    db.session.execute(kind.links.model.__table__.update().values(used_at=clock.now()))
    with pytest.raises(Gone) as lost:
        kind.links.spend(found)
    assert lost.value.message == (kind.links.lost_race or kind.links.used)


def test_a_new_link_replaces_the_previous_one_and_only_that_one(kind):
    first, elsewhere = kind.issue(), kind.issue_elsewhere()
    second = kind.issue()
    with pytest.raises(Gone) as replaced:
        kind.find(first)
    assert replaced.value.message == kind.links.replaced
    assert kind.find(second).replaced_at is None
    assert kind.find(elsewhere).replaced_at is None  # another person's (or file's) link lives on
    with pytest.raises(Gone):
        kind.links.spend(db.session.scalar(select(kind.links.model).where(
            kind.links.model.token_hash == hash_token(first))))
    assert kind.count() == 3


def test_a_link_expires_at_the_end_of_its_lifetime(kind, today_is):
    token = kind.issue()
    issued = clock.today()
    today_is(issued + kind.lifetime - timedelta(days=1))
    assert kind.find(token)
    today_is(issued + kind.lifetime + timedelta(days=1))
    with pytest.raises(Gone) as expired:
        kind.find(token)
    assert expired.value.message == kind.links.expired


def test_a_link_that_expires_between_the_check_and_the_update_is_not_spent(kind, today_is):
    token = kind.issue()
    found = kind.find(token)
    today_is(clock.today() + kind.lifetime + timedelta(days=1))
    with pytest.raises(Gone):
        kind.links.spend(found)
    db.session.refresh(found)
    assert found.used_at is None


def test_what_the_caller_writes_goes_in_the_spending_update(app_ctx):
    file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
    _, token = evaluation.invite_job_assessor(file, file.assessor.user, email="metier@usine.fr",
                                              first_name="Jo", last_name="Métier")
    invitation = evaluation.JOB_ASSESSOR_LINKS.find(token)
    evaluation.JOB_ASSESSOR_LINKS.spend(invitation, general_comment="Très bon geste professionnel.")
    row = db.session.execute(select(JobAssessorInvitation.used_at, JobAssessorInvitation.general_comment)
                             .where(JobAssessorInvitation.id == invitation.id)).one()
    assert row.used_at is not None and row.general_comment == "Très bon geste professionnel."
