"""R9: a decision per competence, on or after the jury date; the status follows the results;
corrections until publication, rectifications (with a reason, history kept) after. R11 numbers."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.core.errors import Conflict, RuleViolation
from app.extensions import db
from app.files.models import FileStatus
from app.jury import services
from app.jury.models import Parchment
from tests.factories import make_session
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)


@pytest.fixture
def registered(secretariat, today_is):
    today_is("2027-05-01")
    session = make_session(on=JURY_DAY)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=session)
    today_is(JURY_DAY)
    return file, session


@pytest.mark.parametrize(("validated", "status", "kind"), [
    ([True, True, True], "valide", "parchemin"),
    ([True, False, True], "partiel", "attestation"),
    ([False, False, True], "partiel", "attestation"),
    ([False, False, False], "non_valide", None),
])
def test_status_follows_the_competences(registered, secretariat, validated, status, kind):
    file, _ = registered
    decision = decide(file, secretariat, validated)
    assert file.status == decision.status == status
    assert [r.validated for r in sorted(decision.results, key=lambda r: r.competence.position)] == validated
    parchment = file.parchment
    assert (parchment.kind if parchment else None) == kind
    assert file.history[-1].event == "record_decision"


def test_no_decision_before_the_jury_date(registered, secretariat, today_is):
    file, _ = registered
    today_is("2027-06-14")
    with pytest.raises(RuleViolation) as refused:
        decide(file, secretariat, True)
    assert "15/06/2027" in refused.value.message
    assert file.status == "inscription_jury" and file.decision is None


def test_every_competence_of_the_file_must_be_decided(registered, secretariat):
    file, _ = registered
    partial = {file.competences[0].id: True}
    with pytest.raises(RuleViolation) as refused:
        services.record_decision(file, secretariat, partial)
    assert file.competences[1].code in refused.value.message


def test_a_competence_that_is_not_the_files_is_refused(registered):
    file, _ = registered
    other = [c for c in file.cqp.competences if c not in file.competences][0]
    with pytest.raises(RuleViolation) as refused:
        services.results_from_codes(file, [{"competence_code": other.code, "validated": True}])
    assert other.code in refused.value.message and "results" in refused.value.errors


def test_correction_before_publication_replaces_the_decision(registered, secretariat):
    file, _ = registered
    decide(file, secretariat, True)
    number = file.parchment.number
    decide(file, secretariat, [True, False, False], comment="Erreur de saisie corrigée")
    decision = file.decision
    assert file.status == decision.status == "partiel" and decision.rectifications == []
    assert file.history[-1].event == "correct_decision"
    assert file.parchment.number == number and file.parchment.kind == "attestation"


def test_after_publication_only_a_rectification_with_a_reason(registered, secretariat):
    file, session = registered
    decide(file, secretariat, [True, False, True])
    services.publish_session(session, secretariat)
    with pytest.raises(RuleViolation) as refused:
        decide(file, secretariat, True)
    assert "motif" in refused.value.message.lower()
    decide(file, secretariat, True, reason="Pièce retrouvée après le jury")
    decision = file.decision
    assert file.status == "valide" and file.history[-1].event == "rectify_decision"
    [rectification] = decision.rectifications
    assert rectification.previous_status == "partiel" and rectification.new_status == "valide"
    assert rectification.reason == "Pièce retrouvée après le jury"
    assert [r["validated"] for r in rectification.previous_results] == [True, False, True]


def test_parchment_numbers_are_unambiguous_and_unique(app_ctx):
    numbers = {services.new_parchment_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert re.fullmatch(r"CQP-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", number), number
        assert not set(number[4:]) & set("0O1IL")


def test_a_number_already_taken_is_drawn_again(registered, secretariat, monkeypatch):
    file, session = registered
    other = make_file(FileStatus.INSCRIPTION_JURY, session=session)
    decide(other, secretariat, True)
    taken = other.parchment.number
    draws = iter([taken, taken, "CQP-ABCD-EFGH"])
    monkeypatch.setattr(services, "new_parchment_number", lambda: next(draws))
    decide(file, secretariat, True)
    assert file.parchment.number == "CQP-ABCD-EFGH"
    assert db.session.query(Parchment).count() == 2


def test_decision_on_a_file_not_registered_is_refused(secretariat):
    file = make_file(FileStatus.VALIDATION_EVALUATION)
    with pytest.raises(Conflict):
        decide(file, secretariat, True)
