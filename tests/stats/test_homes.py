"""Home pages: what each role has to do now."""

from datetime import date, datetime, time, timedelta

import pytest

from app.accounts.models import AccountRequest
from app.core.models import OutboxEmail
from app.extensions import db
from app.files.models import Evaluation, EvaluationResult, JobAssessorInvitation
from app.jury.models import jury_members
from tests.factories import (
    make_assessor,
    make_candidate,
    make_establishment,
    make_file,
    make_session,
    make_user,
)

TODAY = date(2027, 3, 12)


def at(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(9))


@pytest.fixture
def company(app_ctx, today_is):
    today_is(TODAY.isoformat())
    establishment = make_establishment("Chimie Accueil", postcode="69007")
    user = make_user("entreprise", establishment=establishment)
    return establishment, user, make_assessor()


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_company_sees_who_a_file_waits_for_and_since_when(company, client, login_as):
    establishment, user, assessor = company
    waiting_job = make_file("en_attente_evaluation", establishment=establishment, assessor=assessor,
                            interview_date=TODAY + timedelta(days=2))
    db.session.add(JobAssessorInvitation(file=waiting_job, email="m@exemple.fr", first_name="Jo", last_name="Métier",
                                         token_hash="a" * 64, created_at=at(9), expires_at=at(-20)))
    to_register = make_file("validation_evaluation", establishment=establishment, assessor=assessor)
    to_register.status_changed_at = at(3)
    draft = make_file("en_cours_inscription", establishment=establishment, assessor=assessor)
    draft.status_changed_at = at(0)
    db.session.commit()
    login_as(user)
    html = html_of(client, "/entreprise")
    assert "En attente de l&#39;évaluateur métier depuis 9 jours" in html
    assert "À vous : inscrire le candidat à une session de jury (depuis 3 jours)" in html
    assert "À vous : confirmer l&#39;évaluateur (depuis aujourd&#39;hui)" in html
    assert "2 dossiers attendent une action de votre part" in html


def test_company_sees_an_unpublished_decision_as_registered_to_the_jury(company, client, login_as):
    establishment, user, assessor = company
    past = make_session(on=TODAY - timedelta(days=5))
    decided = make_file("valide", establishment=establishment, assessor=assessor, session=past)
    login_as(user)
    html = html_of(client, "/entreprise")
    assert "status-valide" not in html
    assert '<th scope="row">Validé</th><td class="num">0</td>' in html
    assert '<th scope="row">Inscription au jury</th><td class="num">1</td>' in html
    assert "En attente du secrétariat" in html and decided.candidate.full_name in html
    past.published_at = at(1)
    db.session.commit()
    html = html_of(client, "/entreprise")
    assert "Résultats publiés récemment" in html and "status-valide" in html


def test_company_deadlines_r5_window_and_jury_registration(company, client, login_as):
    establishment, user, assessor = company
    file = make_file("en_attente_evaluation", establishment=establishment, assessor=assessor,
                     interview_date=TODAY - timedelta(days=2))
    make_file("validation_evaluation", establishment=establishment, assessor=assessor)
    open_session = make_session(on=TODAY + timedelta(days=30), capacity=4)
    make_session(on=TODAY + timedelta(days=10))  # its registrations closed 11 days ago (R7)
    login_as(user)
    html = html_of(client, "/entreprise")
    # R5: from the interview day to 8 days after
    closes = TODAY + timedelta(days=6)
    assert f"Saisie des résultats de {file.candidate.full_name} par l&#39;évaluateur : du 10/03/2027 au " \
           f"{closes.strftime('%d/%m/%Y')}" in html
    deadline = open_session.date - timedelta(days=21)
    assert f"Inscriptions au jury du {open_session.date.strftime('%d/%m/%Y')} : jusqu&#39;au " \
           f"{deadline.strftime('%d/%m/%Y')} (4 places libres)" in html
    assert (TODAY + timedelta(days=10)).strftime("%d/%m/%Y") not in html


def test_company_never_sees_another_establishments_files(company, client, login_as):
    establishment, user, assessor = company
    other = make_file("validation_evaluation", assessor=assessor)
    mine = make_file("validation_evaluation", establishment=establishment, assessor=assessor)
    login_as(user)
    html = html_of(client, "/entreprise")
    assert mine.candidate.full_name in html and other.candidate.full_name not in html


def test_assessor_files_ordered_by_r5_deadline_with_invitations_and_drafts(app_ctx, today_is, client, login_as):
    today_is(TODAY.isoformat())
    assessor = make_assessor(until=TODAY + timedelta(days=100))
    later = make_file("en_attente_evaluation", assessor=assessor, interview_date=TODAY + timedelta(days=5))
    sooner = make_file("en_attente_evaluation", assessor=assessor, interview_date=TODAY - timedelta(days=3))
    closed = make_file("en_attente_evaluation", assessor=assessor, interview_date=TODAY - timedelta(days=20))
    other = make_file("en_attente_evaluation", interview_date=TODAY, assessor=make_assessor())  # not theirs
    db.session.add(JobAssessorInvitation(file=sooner, email="metier@exemple.fr", first_name="Jo", last_name="Métier",
                                         token_hash="b" * 64, created_at=at(2), expires_at=at(-28)))
    first_competence = later.competences[0]
    evaluation = Evaluation(file_id=later.id, interview_date=TODAY + timedelta(days=5))
    evaluation.results.append(EvaluationResult(competence=first_competence, acquired=True, comment="ok"))
    db.session.add(evaluation)
    db.session.commit()
    login_as(assessor.user)
    html = html_of(client, "/evaluateur")
    names = [closed.candidate.full_name, sooner.candidate.full_name, later.candidate.full_name]
    assert [html.index(n) for n in names] == sorted(html.index(n) for n in names)
    assert other.candidate.full_name not in html
    assert "close depuis le" in html and "ouverte jusqu'au 17 mars 2027" in html
    assert "Jo Métier (metier@exemple.fr) pour " + sooner.candidate.full_name + " : invité depuis 2 jours" in html
    assert "lien valable jusqu'au 9 avril 2027" in html and "Relancer Jo Métier (nouveau lien)" in html
    assert "1 résultat sur 3" in html
    assert "Votre habilitation se termine dans moins de 9 mois" in html


def test_candidate_sees_own_files_only(app_ctx, client, login_as):
    user = make_user("candidat")
    candidate = make_candidate(user=user)
    mine = make_file("en_attente_evaluation", candidate=candidate, assessor=make_assessor())
    other = make_file("en_attente_evaluation", assessor=make_assessor())
    login_as(user)
    html = html_of(client, "/candidat")
    assert mine.cqp.title in html and 'aria-current="step"' in html
    assert other.candidate.full_name not in html and "En attente d&#39;évaluation" in html


def test_jury_member_sees_the_next_sessions_and_their_files(app_ctx, today_is, client, login_as):
    today_is(TODAY.isoformat())
    member = make_user("jury")
    mine = make_session(on=TODAY + timedelta(days=15), location="Lyon")
    not_mine = make_session(on=TODAY + timedelta(days=20), location="Rouen")
    old = make_session(on=TODAY - timedelta(days=60), published_at=at(58))
    assessor = make_assessor()
    file = make_file("inscription_jury", session=mine, assessor=assessor)
    other_file = make_file("inscription_jury", session=not_mine, assessor=assessor)
    db.session.execute(jury_members.insert(), [{"session_id": s.id, "user_id": member.id} for s in (mine, old)])
    db.session.commit()
    login_as(member)
    html = html_of(client, "/jury")
    assert "Jury du 27 mars 2027 · Lyon" in html and file.candidate.full_name in html
    assert other_file.candidate.full_name not in html and "Rouen" not in html
    assert "janvier 2027" not in html  # the published past session is done


def test_secretariat_home_lists_what_is_waiting(app_ctx, today_is, client, login_as, app):
    today_is(TODAY.isoformat())
    db.session.add(AccountRequest(siret="73282932000074", establishment_name="Chimie Demande", contact_first_name="Al",
                                  contact_last_name="Ice", email="al@exemple.fr", created_at=at(4)))
    db.session.add(AccountRequest(siret="73282932000074", establishment_name="Déjà traitée", contact_first_name="B",
                                  contact_last_name="C", email="b@exemple.fr", status="approved"))
    late = make_session(on=TODAY - timedelta(days=3))
    due = make_session(on=TODAY - timedelta(days=1))
    published = make_session(on=TODAY - timedelta(days=10), published_at=at(9))
    make_session(on=TODAY - timedelta(days=2))  # held without any file: nothing to publish
    jury_assessor = make_assessor(until=TODAY + timedelta(days=700))
    for session in (late, due, published):
        make_file("valide", session=session, assessor=jury_assessor)
    db.session.add(OutboxEmail(kind="x", recipients="perdu@exemple.fr", subject="Votre dossier", body_text="…",
                               status="failed", last_error="550 boîte inconnue"))
    db.session.add(OutboxEmail(kind="x", recipients="ok@exemple.fr", subject="Envoyé", body_text="…", status="sent"))
    ending = make_assessor(until=TODAY + timedelta(days=200))
    make_assessor(until=TODAY + timedelta(days=400))  # beyond 9 months
    assessor = make_assessor(until=TODAY + timedelta(days=600))
    stuck = make_file("validation_evaluation", assessor=assessor)
    stuck.status_changed_at = at(app.config["STUCK_FILE_DAYS"] + 1)
    fresh = make_file("validation_evaluation", assessor=assessor)
    fresh.status_changed_at = at(app.config["STUCK_FILE_DAYS"] - 1)
    done = make_file("abandonne", assessor=assessor)
    done.status_changed_at = at(200)
    db.session.commit()
    login_as(make_user("secretariat"))
    html = html_of(client, "/secretariat")
    assert "<strong>1</strong> demande de compte" in html and "Chimie Demande" in html and "Déjà traitée" not in html
    assert "<strong>2</strong> sessions à publier, dont <strong>1 en retard</strong>" in html
    assert late.date.strftime("%-d") in html and due.publication_due_at.strftime("%Y") in html
    assert html.count("En retard") == 1
    assert "perdu@exemple.fr" in html and "ok@exemple.fr" not in html
    assert ending.name in html and "<strong>1</strong> habilitation se termine" in html
    assert stuck.candidate.full_name in html and fresh.candidate.full_name not in html
    assert done.candidate.full_name not in html


def test_partner_home_explains_the_api_and_shows_its_calls(app_ctx, client, login_as):
    from app.accounts.models import PartnerAccessLog

    partner = make_user("partenaire")
    db.session.add(PartnerAccessLog(user_id=partner.id, siret="73282932000074", context="Financement",
                                    recipient="73282932000074", object="Dossier 12", status_code=200))
    db.session.add(PartnerAccessLog(user_id=make_user("partenaire").id, siret="35600000000048", context="Autre",
                                    recipient="73282932000074", object="Pas le mien", status_code=200))
    db.session.commit()
    login_as(partner)
    html = html_of(client, "/partenaire")
    assert "context" in html and "recipient" in html and "RateLimit-Remaining" in html
    assert "Dossier 12" in html and "Pas le mien" not in html


def test_assessor_home_lists_only_the_files_to_evaluate_and_counts_the_others(app_ctx, today_is, client, login_as):
    today_is(TODAY.isoformat())
    assessor = make_assessor(until=TODAY + timedelta(days=400))
    waiting = make_file("en_attente_evaluation", assessor=assessor)
    sent = make_file("validation_evaluation", assessor=assessor)
    unpublished = make_session(on=TODAY - timedelta(days=1))
    hidden = make_file("valide", assessor=assessor, session=unpublished)
    published = make_session(on=TODAY - timedelta(days=30))
    published.published_at = datetime.combine(TODAY - timedelta(days=29), time(9))
    shown = make_file("partiel", assessor=assessor, session=published)
    gone = make_file("abandonne", assessor=assessor)
    db.session.commit()
    login_as(assessor.user)
    html = html_of(client, "/evaluateur")
    to_evaluate = html.split('id="h-evaluer"')[1].split('id="h-invitations"')[0]
    assert "Dossiers à évaluer (1)" in to_evaluate and waiting.candidate.full_name in to_evaluate
    for other in (sent, hidden, shown, gone):
        assert other.candidate.full_name not in to_evaluate
    assert "Autres dossiers (4)" in html and "2 dossiers en cours" in html and "2 dossiers clos" in html
    listing = html_of(client, "/evaluateur/dossiers")
    others = listing.split('id="h-autres"')[1].split('id="h-clos"')[0]
    closed = listing.split('id="h-clos"')[1]
    # an unpublished decision stays among the open files, shown as « Inscription au jury »
    assert hidden.candidate.last_name in others and "Inscription au jury" in others and "Validé" not in others
    assert shown.candidate.last_name in closed and gone.candidate.last_name in closed


def test_the_company_s_to_do_count_is_next_action_s_a_vous(company, client, login_as):
    """homes.waits_on_company (read from the counts' statement) says « yours » exactly when progress.next_action
    does, for every status, with and without an open correction request."""
    from app.files.exchange_models import CorrectionRequest
    from app.files.models import FileStatus
    from app.files.progress import next_action
    from app.stats.homes import waits_on_company

    establishment, user, assessor = company
    session = make_session(on=TODAY - timedelta(days=5))
    session.published_at = at(1)
    files = []
    for status in FileStatus:
        for corrected in (False, True):
            file = make_file(status, establishment=establishment, assessor=assessor,
                             session=session if status.value in ("valide", "partiel", "non_valide",
                                                                 "inscription_jury") else None)
            if corrected:
                db.session.add(CorrectionRequest(file_id=file.id, message="À corriger", requested_at=at(2)))
            files.append((file, corrected))
    db.session.commit()
    expected = 0
    for file, corrected in files:
        db.session.refresh(file)
        action = next_action(file, user)
        yours = bool(action and action.yours)
        assert waits_on_company(file.status, corrected) == yours, (file.status, corrected)
        expected += yours
    assert expected >= 4
    login_as(user)
    html = html_of(client, "/entreprise")
    assert f"{expected} dossiers attendent une action de votre part" in html


def test_company_home_shows_the_files_waiting_longest_per_step_and_counts_the_rest(company, client, login_as):
    """An establishment with many files in progress: per step, the COMPANY_GROUP_LIMIT waiting longest, the
    step's count, and a link to the list; the deadlines and results are bounded too."""
    from app.stats.homes import COMPANY_DEADLINES_LIMIT, COMPANY_GROUP_LIMIT

    establishment, user, assessor = company
    many = COMPANY_GROUP_LIMIT + 3
    drafts = []
    for days in range(many):
        file = make_file("en_cours_inscription", establishment=establishment, assessor=assessor)
        file.status_changed_at = at(days)
        drafts.append(file)
    for days in range(COMPANY_DEADLINES_LIMIT + 2):
        make_file("en_attente_evaluation", establishment=establishment, assessor=assessor,
                  interview_date=TODAY - timedelta(days=days % 8))
    db.session.commit()
    login_as(user)
    html = html_of(client, "/entreprise")
    assert f"{many} dossiers" in html and f"voir les {many} dossiers" in html
    assert "status=en_cours_inscription" in html
    oldest, newest = drafts[-1], drafts[0]  # the newest are left to the list
    assert f">{oldest.candidate.full_name}</a>" in html and f">{newest.candidate.full_name}</a>" not in html
    assert html.count("Saisie des résultats de") == COMPANY_DEADLINES_LIMIT
    assert "D'autres échéances suivent" in html
    assert f"{many} dossiers attendent une action de votre part" in html


def test_company_home_s_jury_group_links_to_the_list_filtered_as_the_company_sees_it(company, client, login_as):
    """« Inscription au jury » holds registered files and decided ones whose results are not published (R10): its
    link is the list filtered on that status, which counts the same files and shows no decision."""
    from app.stats.homes import COMPANY_GROUP_LIMIT

    establishment, user, assessor = company
    session = make_session(on=TODAY - timedelta(days=5), capacity=COMPANY_GROUP_LIMIT + 5)
    registered = [make_file("inscription_jury", establishment=establishment, assessor=assessor, session=session)
                  for _ in range(COMPANY_GROUP_LIMIT)]
    decided = [make_file(status, establishment=establishment, assessor=assessor, session=session)
               for status in ("valide", "partiel", "non_valide")]
    db.session.commit()
    login_as(user)
    html = html_of(client, "/entreprise")
    total = len(registered) + len(decided)
    assert f"voir les {total} dossiers" in html and "status=inscription_jury" in html
    listed = html_of(client, "/dossiers?status=inscription_jury")
    assert all(f'/dossiers/{file.id}"' in listed for file in registered + decided)
    assert listed.count('class="status status-inscription_jury"') == total
    assert not any(f'class="status status-{status}"' in listed for status in ("valide", "partiel", "non_valide"))
