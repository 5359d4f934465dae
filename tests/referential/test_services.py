"""Referential operations: the seed (idempotent, titles updated without breaking files), CQP edits,
assessors and their habilitation."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.referential import services
from app.referential.models import Assessor, Competence, Cqp
from tests.factories import get_cqp, make_assessor, make_file


def test_seed_has_the_13_cqps_by_domain(app_ctx):
    cqps = services.list_cqps()
    assert len(cqps) == 13
    by_domain = {}
    for cqp in cqps:
        by_domain.setdefault(cqp.domain, []).append(cqp)
        assert cqp.title.endswith("des Industries Chimiques")
        assert 5 <= len(cqp.active_competences) <= 10
    assert {d: len(c) for d, c in by_domain.items()} == {
        "Fabrication": 4, "Conditionnement": 3, "Logistique": 2, "Maintenance": 3, "Commercialisation": 1}


def test_seed_twice_creates_nothing(app_ctx):
    assert services.load_referential() == {
        "cqps_created": 0, "cqps_updated": 0, "competences_created": 0, "competences_updated": 0}


def _edited_copy(tmp_path, edit) -> object:
    data = json.loads((services.SEED_DIR / "referential.json").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "referential.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_changed_titles_are_updated_without_breaking_files(app_ctx, tmp_path):
    file = make_file(cqp_code="FAB-OPF", competences=3, assessor=make_assessor())
    chosen = [c.id for c in file.competences]

    def edit(data):
        cqp = next(c for c in data["cqps"] if c["code"] == "FAB-OPF")
        cqp["title"] = "Opérateur(trice) de fabrication (nouvel intitulé)"
        cqp["competences"][0]["title"] = "Sécurité au poste (nouvel intitulé)"
        del cqp["competences"][1]  # a competence the file chose disappears from the file

    counts = services.load_referential(_edited_copy(tmp_path, edit))
    assert counts["cqps_updated"] == 1 and counts["cqps_created"] == 0 and counts["competences_created"] == 0
    db.session.commit()
    db.session.expire_all()
    cqp = get_cqp("FAB-OPF")
    assert cqp.title == "Opérateur(trice) de fabrication (nouvel intitulé)"
    assert cqp.competences[0].title == "Sécurité au poste (nouvel intitulé)"
    removed = next(c for c in cqp.competences if c.code == "C2")
    assert removed.active is False and removed not in cqp.active_competences
    assert [c.id for c in file.competences] == chosen  # the file keeps its competences, same rows
    assert db.session.scalar(select(func.count(Cqp.id))) == 13


def test_seed_adds_a_new_cqp_and_competence(app_ctx, tmp_path):
    def edit(data):
        data["cqps"].append({"code": "NEW-CQP", "title": "Nouveau CQP des Industries Chimiques",
                             "domain": "Fabrication", "competences": [{"code": "C1", "title": "Une compétence"}]})

    counts = services.load_referential(_edited_copy(tmp_path, edit))
    assert counts["cqps_created"] == 1 and counts["competences_created"] == 1
    db.session.rollback()


def test_update_cqp_referential(app_ctx):
    cqp = get_cqp("LOG-AGL") or services.list_cqps()[0]
    rows = [{"code": c.code, "title": f"{c.title} (révisé)", "active": i != 0} for i, c in enumerate(cqp.competences)]
    services.update_cqp_referential(cqp, title="  Titre révisé  ", domain="Logistique", active=True, competences=rows)
    assert cqp.title == "Titre révisé"
    assert cqp.competences[0].active is False and cqp.competences[1].title.endswith("(révisé)")
    db.session.rollback()


def test_an_active_cqp_keeps_one_active_competence(app_ctx):
    cqp = services.list_cqps()[0]
    rows = [{"code": c.code, "title": c.title, "active": False} for c in cqp.competences]
    with pytest.raises(ValidationFailed) as refused:
        services.update_cqp_referential(cqp, title=cqp.title, domain=cqp.domain, active=True, competences=rows)
    assert "au moins une compétence active" in refused.value.message
    db.session.rollback()


def test_a_competence_of_another_cqp_is_refused(app_ctx):
    cqp, other = services.list_cqps()[:2]
    with pytest.raises(ValidationFailed) as refused:
        services.update_cqp_referential(cqp, title=cqp.title, domain=cqp.domain, active=True,
                                        competences=[{"code": "ZZ9", "title": "x", "active": True}])
    assert "competences-0-title" in refused.value.errors
    db.session.rollback()



@pytest.mark.parametrize("until,expected", [
    (date(2027, 3, 11), "expiree"),
    (date(2027, 3, 12), "bientot"),
    (date(2027, 12, 12), "bientot"),
    (date(2027, 12, 13), None),
])
def test_habilitation_alert_flags_the_next_9_months(app_ctx, until, expected):
    assessor = Assessor(habilitation_until=until)
    assert services.habilitation_alert(assessor, date(2027, 3, 12)) == expected


def test_habilitated_assessors_on_a_date_and_for_a_cqp(app_ctx, today_is):
    today_is("2027-03-12")
    fab = get_cqp("FAB-OPF")
    every = make_assessor(until=date(2027, 6, 1))
    only_fab = make_assessor(until=date(2027, 6, 1), cqps=[fab])
    other_cqp = make_assessor(until=date(2027, 6, 1), cqps=[services.list_cqps()[-1]])
    expired = make_assessor(until=date(2027, 3, 11))
    assert set(services.habilitated_assessors()) == {every, only_fab, other_cqp}
    assert set(services.habilitated_assessors(cqp=fab)) == {every, only_fab}
    assert expired not in services.habilitated_assessors(on=date(2027, 3, 12))
    assert expired in services.habilitated_assessors(on=date(2027, 3, 11))


def test_create_assessor_with_a_code_twice_is_one_habilitation(app_ctx):
    assessor = services.create_assessor("e@exemple.fr", "Éva", "Luatrice", date(2028, 1, 1), ["FAB-OPF", "fab-opf"])
    assert [c.code for c in assessor.cqps] == ["FAB-OPF"]
    db.session.rollback()


def test_create_assessor_unknown_cqp_writes_nothing(app_ctx):
    with pytest.raises(ValidationFailed) as refused:
        services.create_assessor("e@exemple.fr", "Éva", "Luatrice", date(2028, 1, 1), ["NOPE"])
    assert refused.value.errors == {"cqp_codes": ["Le CQP « NOPE » n'existe pas dans le référentiel."]}
    db.session.rollback()
    assert db.session.scalar(select(func.count(Assessor.id))) == 0


def test_create_assessor_duplicate_email_is_a_conflict(app_ctx):
    make_assessor(email="e@exemple.fr")
    with pytest.raises(Conflict):
        services.create_assessor("E@exemple.fr", "Éva", "Luatrice", date(2028, 1, 1))
    db.session.rollback()


def test_update_assessor(app_ctx):
    assessor = make_assessor()
    services.update_assessor(assessor, habilitation_until=date(2030, 1, 1), cqp_codes=["MNT-TMI", "FAB-OPF"],
                             first_name="Ève", last_name="Nouveau", organisation="  ", phone="0102030405")
    db.session.commit()
    assert assessor.habilitation_until == date(2030, 1, 1)
    assert sorted(c.code for c in assessor.cqps) == sorted(["MNT-TMI", "FAB-OPF"])
    assert assessor.user.full_name == "Ève Nouveau" and assessor.organisation is None
    with pytest.raises(ValidationFailed):
        services.update_assessor(assessor, habilitation_until=date(2030, 1, 1), first_name=" ")
    db.session.rollback()


def test_competence_codes_are_unique_per_cqp(app_ctx):
    codes = db.session.execute(select(Competence.cqp_id, Competence.code)).all()
    assert len(codes) == len(set(codes))
