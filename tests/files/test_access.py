"""Loads scoped by who asks (app/files/access.py): another tenant's file, candidate or document does
not exist for them (NotFound), and the searchable lists of files and candidates. (Which page each
role may open is in test_views.py.)"""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.files import access
from app.files.models import Document, FileStatus
from tests import factories

S = FileStatus


@pytest.fixture
def two_companies(app_ctx):
    mine, theirs = factories.make_establishment(), factories.make_establishment()
    return {
        "me": factories.make_user(Role.ENTREPRISE, establishment=mine),
        "mine": factories.make_file(S.EN_ATTENTE_EVALUATION, establishment=mine),
        "theirs": factories.make_file(S.EN_ATTENTE_EVALUATION, establishment=theirs),
    }


def _document(file, name: str = "piece.pdf") -> Document:
    document = Document(file=file, candidate=file.candidate, kind="diplome", filename=name,
                        stored_name=f"access-{file.id}-{name}", content_type="application/pdf", size=10)
    db.session.add(document)
    db.session.commit()
    return document


def test_a_file_is_loaded_for_who_may_see_it_only(two_companies):
    me, mine, theirs = two_companies["me"], two_companies["mine"], two_companies["theirs"]
    assert access.get_file_for(me, mine.id) is mine
    assert access.get_file_for(me, str(mine.id), loads=access.for_viewer(access.FILE_PAGE, me)) is mine
    for wrong in (theirs.id, "abc", None, 10**9):
        with pytest.raises(NotFound, match="Ce dossier n'existe pas, ou vous n'y avez pas accès."):
            access.get_file_for(me, wrong)
    assert access.get_file_for(factories.make_user(Role.SECRETARIAT), theirs.id) is theirs


def test_a_candidate_is_loaded_for_who_may_see_it_and_the_refusal_names_the_field(two_companies):
    me = two_companies["me"]
    assert access.get_candidate_for(me, two_companies["mine"].candidate_id) is two_companies["mine"].candidate
    with pytest.raises(NotFound) as refused:
        access.get_candidate_for(me, two_companies["theirs"].candidate_id, field="candidate_id")
    assert refused.value.errors == {"candidate_id": ["Ce candidat n'existe pas, ou vous n'y avez pas accès."]}


def test_a_document_belongs_to_the_file_or_candidate_it_is_asked_through(two_companies):
    mine, theirs = two_companies["mine"], two_companies["theirs"]
    document, foreign = _document(mine), _document(theirs)
    me = two_companies["me"]
    assert access.get_document_for(me, document.id, file=mine) is document
    assert access.get_document_for(me, document.id, candidate=mine.candidate) is document
    for asked in ({"file": mine, "document": foreign.id}, {"candidate": mine.candidate, "document": foreign.id},
                  {"file": mine, "document": "x"}):
        document_id = asked.pop("document")
        with pytest.raises(NotFound, match="Ce document n'existe pas"):
            access.get_document_for(me, document_id, **asked)


def test_a_candidates_documents_and_a_candidate_users_own_record(app_ctx):
    user = factories.make_user(Role.CANDIDAT)
    file = factories.make_file(candidate=factories.make_candidate(user=user))
    first, second = _document(file, "a.pdf"), _document(file, "b.pdf")
    assert access.candidate_documents(file.candidate) == [first, second]
    assert access.own_candidate(user) is file.candidate
    assert access.own_candidate(factories.make_user(Role.CANDIDAT)) is None


def test_the_file_search_is_scoped_filtered_and_paged(two_companies):
    me, mine = two_companies["me"], two_companies["mine"]
    other = factories.make_file(S.EN_COURS_INSCRIPTION, establishment=mine.establishment,
                                candidate=factories.make_candidate(mine.establishment, last_name="Ignoré"))
    other.candidate.set_names("Zoé", "Lefèvre")
    db.session.commit()
    assert {f.id for f in access.search_files(me).items} == {mine.id, other.id}
    assert [f.id for f in access.search_files(me, status="en_cours_inscription").items] == [other.id]
    assert [f.id for f in access.search_files(me, q="LEFEVRE zoe").items] == [other.id]
    assert access.search_files(me, cqp="fab-opf ").total == 2 and access.search_files(me, cqp="LOG-AGL").total == 0
    with pytest.raises(ValidationFailed, match="Statut inconnu : perdu."):
        access.search_files(me, status="perdu")
    page = access.search_files(me, page=2, per_page=1)
    assert (page.page, page.pages, page.total, len(page.items)) == (2, 2, 2, 1)
    assert access.search_files(me, per_page=1000).per_page == 100


def test_the_candidate_search_is_scoped_and_accent_insensitive(two_companies):
    me, mine = two_companies["me"], two_companies["mine"]
    mine.candidate.set_names("Hélène", "Dupré-Martin")
    db.session.commit()
    assert [c.id for c in access.search_candidates(me, "dupre").items] == [mine.candidate_id]
    assert [c.id for c in access.search_candidates(me, "helene martin").items] == [mine.candidate_id]
    assert access.search_candidates(me, "personne").items == []
    assert access.search_candidates(factories.make_user(Role.SECRETARIAT)).total == 2


def test_a_list_reads_what_the_checks_read_only_for_the_files_whose_lines_say_what_is_missing(app_ctx, today_is):
    """Issue 16: a listed file reads the competences, the assessor's CQPs, the results and the scans (what « Ce
    qu'il manque » checks) only at the steps checked (the API's `missing`, every viewer), or only at the step at
    which its line tells the viewer what is missing (progress.steps_told_missing: the company at the first step,
    the assessor at the evaluation, nobody else). What each line then says reads nothing more."""
    from datetime import date

    from sqlalchemy import inspect

    from app.accounts.models import User
    from app.files import progress
    from tests.stats.test_query_counts import STATUSES, add_files, count_queries

    today_is("2026-01-12")
    world = {"establishment": factories.make_establishment(), "assessor": factories.make_assessor(until=date(2026, 6, 1)),
             "session": factories.make_session(on=date(2026, 3, 1), capacity=100)}
    add_files(2 * len(STATUSES), statuses=STATUSES, **world)
    secretariat = factories.make_user("secretariat").id
    company = factories.make_user("entreprise", establishment=world["establishment"]).id
    cases = [(secretariat, access.CHECKED_STEPS, True), (secretariat, progress.steps_told_missing, False),
             (company, progress.steps_told_missing, False), (world["assessor"].user_id, progress.steps_told_missing, False)]
    told = set()
    for viewer_id, steps, with_missing in cases:
        db.session.expunge_all()
        viewer = db.session.get(User, viewer_id)
        steps = steps(viewer) if callable(steps) else steps
        told.update(steps)
        page = access.search_files(viewer, per_page=100, checked_steps=steps)
        assert {f.status for f in page.items} >= set(access.CHECKED_STEPS)
        with count_queries() as statements:
            said = [progress.next_action(f, viewer) for f in page.items]
            if with_missing:
                said += [progress.missing_items(f, viewer) for f in page.items]
        assert statements == [] and len(said) >= len(page.items), (viewer.role, steps)
        for file in page.items:
            unloaded = inspect(file).unloaded & {"competences", "documents"}
            if file.status in steps:
                assert unloaded == set()
                assert file.evaluation is None or "results" not in inspect(file.evaluation).unloaded
                assert "cqps" not in inspect(file.assessor).unloaded
            else:
                assert unloaded == {"competences", "documents"}, (viewer.role, file.status)
    assert told == set(access.CHECKED_STEPS)


def test_the_file_page_loads_each_collection_once_although_some_come_joined(app_ctx):
    """FILE_PAGE brings the invitations (and their observations), the correction asked and the carried
    competences in the file's own SELECT: a file with two invitations and three competences still has each once."""
    file = factories.make_file(FileStatus.VALIDATION_EVALUATION)
    factories.make_invitation(file, used=True)
    file_id, expected = file.id, {
        "invitations": len(file.invitations), "competences": len(file.competences),
        "observations": sorted(len(i.observations) for i in file.invitations), "results": len(file.evaluation.results)}
    assert expected["invitations"] == 2 and expected["competences"] == 3
    me = factories.make_user("secretariat")
    db.session.expunge_all()
    loaded = access.get_file_for(db.session.merge(me, load=True), file_id, loads=access.FILE_PAGE)
    assert {"invitations": len(loaded.invitations), "competences": len(loaded.competences),
            "observations": sorted(len(i.observations) for i in loaded.invitations),
            "results": len(loaded.evaluation.results)} == expected
    assert len({i.id for i in loaded.invitations}) == 2
