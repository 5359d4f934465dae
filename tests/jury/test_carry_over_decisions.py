"""R13 on the jury's side: a published partial decision makes its validated competences acquired (jury date +
the CQP's carry_over_years, 0 = not carried, kept right by a rectification); the next file's decision derives
its status from the acquired competences and this jury's (R9 read with R13); the parchment then lists every
competence with the jury that validated it; the company is told once, 6 months before acquired competences
expire."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

import app.models  # noqa: F401  (every mapped class known before the jury modules build loader options)
from app.accounts.models import Role
from app.core.clock import add_months
from app.core.errors import RuleViolation
from app.extensions import db
from app.files.carry_over_models import AcquiredCompetence
from app.files.models import FileStatus
from app.jury import decisions, parchments
from app.jury.carry_over import valid_until
from app.jury.notifications import send_reminders
from app.jury.pdf import parchment_pdf
from tests.carry_over_helpers import FIRST_JURY, SECOND_JURY, company_user, first_attempt, next_file, to_jury
from tests.factories import get_cqp, make_user
from tests.jury.helpers import decide

REMAINING = ("C4", "C5", "C6", "C7")


def _acquired(file) -> dict[str, tuple[date, date]]:
    rows = db.session.scalars(select(AcquiredCompetence).where(AcquiredCompetence.file_id == file.id))
    return {r.competence.code: (r.jury_date, r.valid_until) for r in rows}


def test_a_published_partial_decision_makes_its_competences_acquired(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    assert first.status == FileStatus.PARTIEL
    until = date(2032, 6, 15)  # jury date + 5 years (the CQP's default)
    assert _acquired(first) == {code: (FIRST_JURY, until) for code in ("C1", "C2", "C3")}


def test_nothing_is_acquired_before_publication(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is, publish=False)
    assert first.status == FileStatus.PARTIEL and _acquired(first) == {}


@pytest.mark.parametrize("validated", [("C1", "C2", "C3", "C4", "C5", "C6", "C7"), ()])
def test_a_valid_or_failed_decision_leaves_nothing_acquired(app_ctx, secretariat, today_is, validated):
    first = first_attempt(secretariat, today_is, validated=validated)
    assert first.status in (FileStatus.VALIDE, FileStatus.NON_VALIDE) and _acquired(first) == {}


def test_carry_over_years_zero_carries_nothing(app_ctx, secretariat, today_is):
    get_cqp("FAB-OPF").carry_over_years = 0
    db.session.commit()
    first = first_attempt(secretariat, today_is)
    assert _acquired(first) == {}


def test_the_duration_is_the_one_in_force_at_publication(app_ctx, secretariat, today_is):
    get_cqp("FAB-OPF").carry_over_years = 2
    db.session.commit()
    first = first_attempt(secretariat, today_is)
    get_cqp("FAB-OPF").carry_over_years = 5  # a later change of the branch's agreement
    db.session.commit()
    assert set(_acquired(first).values()) == {(FIRST_JURY, date(2029, 6, 15))}


def test_leap_day_jury_keeps_them_until_the_28th_of_february():
    assert valid_until(date(2028, 2, 29), 5) == date(2033, 2, 28)
    assert valid_until(date(2027, 6, 15), 1) == date(2028, 6, 15)


def test_a_rectification_keeps_the_acquired_competences_right(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    results = {c.id: c.code in ("C1", "C4") for c in first.competences}
    decisions.record_decision(first, secretariat, results, reason="Erreur de saisie sur C2, C3 et C4")
    db.session.commit()
    assert set(_acquired(first)) == {"C1", "C4"}
    assert _acquired(first)["C1"] == (FIRST_JURY, date(2032, 6, 15))
    decisions.record_decision(first, secretariat, {c.id: False for c in first.competences}, reason="Fraude")
    db.session.commit()
    assert first.status == FileStatus.NON_VALIDE and _acquired(first) == {}


# ---------------------------------------------------------------- the next jury (R9 read with R13)


@pytest.fixture
def second(secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    today_is("2027-11-02")
    file = next_file(first, REMAINING)
    to_jury(file, SECOND_JURY)
    today_is(SECOND_JURY)
    return first, file


def test_the_next_file_carries_the_acquired_and_decides_the_others(app_ctx, second):
    first, file = second
    assert [c.code for c in file.competences] == list(REMAINING)
    assert [r.competence.code for r in file.carried_competences] == ["C1", "C2", "C3"]


@pytest.mark.parametrize(("validated", "status", "kind"), [
    ([True, True, True, True], "valide", "parchemin"),
    ([True, False, True, False], "partiel", "attestation"),
    ([False, False, False, False], "partiel", "attestation"),  # none new: the acquired ones remain
])
def test_status_derived_from_acquired_and_this_jury(app_ctx, second, secretariat, validated, status, kind):
    _, file = second
    decision = decide(file, secretariat, validated)
    assert file.status == decision.status == status
    assert file.parchment.kind == kind


def test_all_validated_but_the_cqp_not_complete_is_partiel(app_ctx, secretariat, today_is):
    """A new file on part of the remaining competences (C6 and C7 left for later): all validated → partiel,
    the CQP is not complete; the competences it validated become acquired at publication."""
    first = first_attempt(secretariat, today_is)
    today_is("2027-11-02")
    file = next_file(first, ("C4", "C5"))
    to_jury(file, SECOND_JURY)
    today_is(SECOND_JURY)
    decide(file, secretariat, True)
    assert file.status == FileStatus.PARTIEL and file.parchment.kind == "attestation"
    decisions.publish_session(file.jury_session, secretariat)
    db.session.commit()
    assert set(_acquired(file)) == {"C4", "C5"}
    listed = [c["code"] for c in file.parchment.current_version.competences]
    assert listed == ["C1", "C2", "C3", "C4", "C5"]


def test_a_rectified_first_decision_no_longer_completes_the_next_file(app_ctx, second, secretariat, today_is):
    """C2 taken out of the first decision after the next file carried it: that file no longer completes
    the CQP, its all-validated decision is partiel."""
    first, file = second
    today_is(SECOND_JURY)
    results = {c.id: c.code in ("C1", "C3") for c in first.competences}
    decisions.record_decision(first, secretariat, results, reason="C2 validée par erreur")
    db.session.commit()
    db.session.expire(file)
    assert [r.competence.code for r in file.carried_competences] == ["C1", "C3"]
    decide(file, secretariat, True)
    assert file.status == FileStatus.PARTIEL


def test_without_acquired_competences_none_validated_is_still_non_valide(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is, validated=())
    assert first.status == FileStatus.NON_VALIDE and first.parchment is None


def test_only_the_remaining_competences_are_decided(app_ctx, second, secretariat):
    _, file = second
    c1 = next(c for c in file.cqp.competences if c.code == "C1")
    with pytest.raises(RuleViolation):
        decisions.record_decision(file, secretariat, {**{c.id: True for c in file.competences}, c1.id: True})
    with pytest.raises(RuleViolation) as refused:
        decisions.results_from_codes(file, [{"competence_code": "C1", "validated": True}])
    assert str(refused.value.message) == ("Compétence C1 (acquise au jury du 15/06/2027, jusqu'au 15/06/2032) : "
                                          "déjà acquise, elle n'est pas décidée à nouveau.")


def test_the_parchment_lists_every_competence_and_the_jury_that_validated_it(app_ctx, second, secretariat):
    first, file = second
    decide(file, secretariat, True)
    decisions.publish_session(file.jury_session, secretariat)
    db.session.commit()
    version = file.parchment.current_version
    assert version.kind == "parchemin"
    assert [c["code"] for c in version.competences] == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert all(c["validated"] for c in version.competences)
    carried = {c["code"]: c["carried_from"] for c in version.competences if c.get("carried_from")}
    assert set(carried) == {"C1", "C2", "C3"}
    assert carried["C1"]["jury_date"] == FIRST_JURY.isoformat()
    assert carried["C1"]["location"] == "Paris, Maison de la Chimie"
    assert carried["C1"]["number"] == first.parchment.number
    verified = parchments.verify_number(file.parchment.number)
    assert verified.decision == "valide" and len(verified.competences_validated) == 7
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(parchment_pdf(file.parchment))).pages)
    text = " ".join(text.split())
    assert "chacune au jury indiqué" in text
    assert "jury du 15 juin 2027, Paris, Maison de la Chimie" in text
    assert "jury du 14 mars 2028, Lyon, CCI" in text
    for code in ("C1", "C4", "C7"):
        assert f"{code} —" in text


def test_a_removed_competence_is_neither_offered_nor_counted(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    cqp = first.cqp
    removed = next(c for c in cqp.competences if c.code == "C2")
    removed.active = False  # taken out of the referential since the first jury
    db.session.commit()
    today_is("2027-11-02")
    file = next_file(first, ("C4", "C5", "C6", "C7"))
    assert [r.competence.code for r in file.carried_competences] == ["C1", "C3"]
    to_jury(file, SECOND_JURY)
    today_is(SECOND_JURY)
    decide(file, secretariat, True)
    assert file.status == FileStatus.VALIDE
    codes = [c["code"] for c in file.parchment.current_version.competences]
    assert codes == ["C1", "C3", "C4", "C5", "C6", "C7"]


# ---------------------------------------------------------------- the reminder 6 months before expiry


def test_the_company_is_told_once_six_months_before_expiry(app_ctx, secretariat, today_is, mailbox):
    from app.core.models import OutboxEmail

    first = first_attempt(secretariat, today_is)
    company = company_user(first)
    expiry = date(2032, 6, 15)
    warn_on = add_months(expiry, -6)

    def reminders_on(day) -> int:
        today_is(day)
        count = send_reminders()["carry_over_expiry"]
        db.session.commit()
        return count

    assert reminders_on(date(2031, 12, 14)) == 0  # the day before
    assert reminders_on(warn_on) == 1
    assert reminders_on(warn_on) == 0  # once
    assert reminders_on(date(2032, 3, 1)) == 0
    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "reminder_carry_over_expiry")).all()
    assert len(emails) == 1 and emails[0].recipients == company.email
    assert first.candidate.full_name in emails[0].subject and "15/06/2032" in emails[0].subject
    assert "C1" in emails[0].body_text and "C3" in emails[0].body_text and "C4" not in emails[0].body_text


def test_no_reminder_while_an_open_file_or_once_the_cqp_is_held(app_ctx, second, secretariat, today_is):
    first, file = second
    today_is(add_months(date(2032, 6, 15), -5))
    assert send_reminders()["carry_over_expiry"] == 0  # the next file is open
    decide(file, secretariat, True)
    db.session.commit()
    assert file.status == FileStatus.VALIDE
    assert send_reminders()["carry_over_expiry"] == 0  # the CQP is held


# ---------------------------------------------------------------- the jury's screens


def test_the_decision_page_shows_the_acquired_ones_and_none_new_is_partiel_without_confirmation(
        app_ctx, second, secretariat, login_as):
    from html import unescape

    from tests.conftest import submit_form

    _, file = second
    client = login_as(secretariat)
    url = f"/secretariat/dossiers/{file.id}/decision"
    page = unescape(client.get(url).get_data(as_text=True))
    assert "Compétences déjà acquises" in page
    assert "C1 — " in page and "acquise au jury du 15 juin 2027, jusqu'au 15 juin 2032" in page
    assert "Je confirme la décision « Non validé »" not in page
    assert f'name="c_{file.cqp.competences[0].id}"' not in page  # C1 is not decided again
    done = submit_form(client, url, {f"c_{c.id}": "non_validee" for c in file.competences})
    assert done.status_code == 302, unescape(done.get_data(as_text=True))[:2000]
    db.session.refresh(file)
    assert file.status == FileStatus.PARTIEL and file.parchment.kind == "attestation"
    listed = [c["code"] for c in file.parchment.current_version.competences if c["validated"]]
    assert listed == ["C1", "C2", "C3"]  # the attestation keeps what was acquired


def test_deciding_as_evaluated_a_file_with_acquired_ones_and_nothing_new_gives_partiel(app_ctx, second, secretariat):
    _, file = second
    for result in file.evaluation.results:
        result.acquired = False
    db.session.commit()
    (outcome,) = decisions.decide_as_evaluated([file], secretariat)
    assert outcome.error is None and file.status == FileStatus.PARTIEL


def test_the_session_screen_and_the_booklet_show_the_acquired_ones(app, app_ctx, second, secretariat, login_as):
    import io
    from html import unescape

    from pypdf import PdfReader

    from tests.factories import sit_on

    _, file = second
    client = login_as(secretariat)
    screen = unescape(client.get(f"/secretariat/jurys/{file.jury_session_id}/decisions").get_data(as_text=True))
    assert "Déjà acquises (jury précédent) : C1 (jusqu'au 15 juin 2032), C2" in screen
    juror = make_user(Role.JURY)
    sit_on(file.jury_session, juror)
    from tests.conftest import login
    from tests.factories import PASSWORD

    juror_client = app.test_client()
    login(juror_client, juror.email, PASSWORD)
    booklet = juror_client.get(f"/jury/sessions/{file.jury_session_id}/livret.pdf")
    assert booklet.status_code == 200
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(booklet.data)).pages)
    assert "Compétences déjà acquises" in text and "acquise au jury du 15 juin 2027" in text
