"""`flask training-orgs import FILE` (app/referential/training_orgs.py): the public list of training organisations
in the forms data.gouv.fr and the DGEFP's Opendatasoft export publish it; idempotent, one transaction, a refused
file replaces nothing, a malformed SIRET skips its line."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.referential.training_org_models import TrainingOrganisation, TrainingOrgNda
from app.referential.training_orgs import PUBLISHED
from tests.factories import valid_siret

HEADER = ";".join(PUBLISHED)


def line(siret: str, nda: str, name: str, *, af="true", bc="false", vae="false", app="false", previous="",
         declared="30/01/2026", speciality=("222", "Transformations chimiques et apparentées")) -> str:
    values = dict.fromkeys(PUBLISHED, "")
    values.update({
        "numeroDeclarationActivite": nda, "numerosDeclarationActivitePrecedent": previous, "denomination": name,
        "siren": siret[:9], "siretEtablissementDeclarant": siret,
        "adressePhysiqueOrganismeFormation.ville": "LYON", "adressePhysiqueOrganismeFormation.codePostal": "69001",
        "certifications.actionsDeFormation": af, "certifications.bilansDeCompetences": bc,
        "certifications.VAE": vae, "certifications.actionsDeFormationParApprentissage": app,
        "informationsDeclarees.dateDerniereDeclaration": declared,
        "informationsDeclarees.specialitesDeFormation.codeSpecialite1": speciality[0],
        "informationsDeclarees.specialitesDeFormation.libelleSpecialite1": speciality[1],
        "informationsDeclarees.nbStagiaires": "120",
    })
    return ";".join(values[name] for name in PUBLISHED)


def write(tmp_path, lines: list[str], *, header: str = HEADER, encoding: str = "utf-8", name: str = "liste.csv"):
    path = tmp_path / name
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def run_import(runner, path, *args):
    return runner.invoke(args=["training-orgs", "import", str(path), *args])


def org(siret: str) -> TrainingOrganisation | None:
    db.session.expire_all()
    return db.session.scalar(select(TrainingOrganisation).where(TrainingOrganisation.siret == siret))


@pytest.fixture
def sirets():
    return [valid_siret(900 + n) for n in range(4)]


def test_the_published_list_is_imported(app_ctx, runner, tmp_path, sirets):
    path = write(tmp_path, [line(sirets[0], "11910843391", "FORMATION CHIMIE SUD", app="true"),
                            line(sirets[1], "84691234569", "BILANS ET CO", af="false", bc="true")])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "2 lignes lues, 2 organismes (2 créés, 0 mis à jour)" in result.output
    first = org(sirets[0])
    assert first.name == "FORMATION CHIMIE SUD" and first.siren == sirets[0][:9]
    assert first.qualiopi == {"actions_formation": True, "bilans_competences": False, "vae": False,
                              "apprentissage": True}
    assert first.last_declaration_on == date(2026, 1, 30)
    assert first.specialities == [{"code": "222", "label": "Transformations chimiques et apparentées"}]
    assert [(n.number, n.active) for n in first.ndas] == [("11910843391", True)]
    assert first.warning is None and first.source == "liste_publique"
    assert org(sirets[1]).warning == "Cet organisme n'est pas certifié Qualiopi pour les actions de formation."


def test_oui_non_lowercase_columns_and_iso_dates_as_the_opendatasoft_export_writes_them(app_ctx, runner, tmp_path,
                                                                                        sirets):
    header = ";".join(name.lower().replace(".", "_") for name in PUBLISHED) + ";reg_name;random_id"
    path = write(tmp_path, [line(sirets[0], "11910843391", "OF OUI", af="Oui", vae="Oui", declared="2026-02-03")
                            + ";Auvergne-Rhône-Alpes;0.42"], header=header)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    imported = org(sirets[0])
    assert imported.qualiopi_actions_formation and imported.qualiopi_vae and not imported.qualiopi_bilans_competences
    assert imported.last_declaration_on == date(2026, 2, 3)


def test_a_second_import_updates_in_place_and_an_organisation_absent_from_it_loses_its_active_nda(
        app_ctx, runner, tmp_path, sirets):
    first = write(tmp_path, [line(sirets[0], "11910843391", "AVANT"), line(sirets[1], "84691234569", "PARTI")])
    assert run_import(runner, first).exit_code == 0
    again = run_import(runner, first)
    assert "2 organismes (0 créé, 2 mis à jour)" in again.output
    assert db.session.scalar(select(db.func.count()).select_from(TrainingOrgNda)) == 2
    second = write(tmp_path, [line(sirets[0], "11910843391", "APRÈS", af="false")], name="liste2.csv")
    result = run_import(runner, second)
    assert result.exit_code == 0, result.output
    assert "1 organisme absent de cette liste" in result.output
    assert org(sirets[0]).name == "APRÈS" and not org(sirets[0]).qualiopi_actions_formation
    gone = org(sirets[1])
    assert gone.name == "PARTI" and not gone.has_active_nda
    assert gone.warning.endswith("Son numéro de déclaration d'activité (NDA) n'est pas actif.")


@pytest.mark.parametrize("batch_size", ["1", "1000"])
def test_an_establishment_on_two_lines_keeps_both_declarations_and_certifications(app_ctx, runner, tmp_path, sirets,
                                                                                  batch_size):
    path = write(tmp_path, [line(sirets[0], "11910843391", "DEUX NDA", af="false", vae="true"),
                            line(sirets[1], "84691234569", "AUTRE"),
                            line(sirets[0], "11750000000", "DEUX NDA", af="true", previous="11000000001")])
    result = run_import(runner, path, "--batch-size", batch_size)
    assert result.exit_code == 0, result.output
    both = org(sirets[0])
    assert both.qualiopi_actions_formation and both.qualiopi_vae
    assert sorted((n.number, n.active) for n in both.ndas) == [
        ("11000000001", False), ("11750000000", True), ("11910843391", True)]
    assert run_import(runner, path, "--batch-size", batch_size).exit_code == 0  # idempotent
    assert len(org(sirets[0]).ndas) == 3


def test_a_malformed_siret_skips_its_line_and_is_counted(app_ctx, runner, tmp_path, sirets):
    bad_key = sirets[1][:-1] + str((int(sirets[1][-1]) + 1) % 10)
    path = write(tmp_path, [line(sirets[0], "11910843391", "BON"), line("1234", "84691234569", "COURT"),
                            line(bad_key, "84691234570", "CLÉ FAUSSE")])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "2 lignes ignorées : SIRET mal formé (lignes 3, 4)" in result.output
    assert db.session.scalar(select(db.func.count()).select_from(TrainingOrganisation)) == 1


@pytest.mark.parametrize("header, message", [
    (HEADER + ";colonneInventee", "Ligne 1 : colonne inconnue « colonneInventee »"),
    (HEADER.replace("siretEtablissementDeclarant;", ""), "Ligne 1 : colonne absente siretEtablissementDeclarant"),
    (HEADER.replace(";", ","), "Ligne 1 : les colonnes sont séparées par des virgules"),
])
def test_a_file_without_the_published_columns_replaces_nothing(app_ctx, runner, tmp_path, sirets, header, message):
    assert run_import(runner, write(tmp_path, [line(sirets[0], "11910843391", "EXISTANT")], name="a.csv")).exit_code == 0
    result = run_import(runner, write(tmp_path, [line(sirets[1], "84691234569", "NOUVEAU")], header=header))
    assert result.exit_code == 1
    assert message in result.output and "Rien n'a été remplacé." in result.output
    assert org(sirets[0]).has_active_nda and org(sirets[1]) is None


def test_a_broken_encoding_names_its_line_and_replaces_nothing(app_ctx, runner, tmp_path, sirets):
    assert run_import(runner, write(tmp_path, [line(sirets[0], "11910843391", "EXISTANT")], name="a.csv")).exit_code == 0
    path = tmp_path / "latin1.csv"
    path.write_bytes("\n".join([HEADER, line(sirets[1], "84691234569", "PREMIER"),
                                line(sirets[2], "84691234570", "DEUXIÈME")]).encode("utf-8")
                     + b"\n" + line(sirets[3], "84691234571", "FORMATION ÉTÉ").encode("latin-1") + b"\n")
    result = run_import(runner, path, "--batch-size", "1")  # the first lines were written before the bad one
    assert result.exit_code == 1
    assert "Ligne 4 : le fichier n'est pas en UTF-8" in result.output and "Rien n'a été remplacé." in result.output
    assert org(sirets[1]) is None and org(sirets[0]).name == "EXISTANT" and org(sirets[0]).has_active_nda


def test_a_value_not_of_its_column_names_the_line_and_column(app_ctx, runner, tmp_path, sirets):
    path = write(tmp_path, [line(sirets[0], "11910843391", "A"), line(sirets[1], "84691234569", "B", vae="peut-être")])
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "Ligne 3 : la colonne certifications.VAE vaut « peut-être » (attendu true/false ou Oui/Non)" in result.output
    assert org(sirets[0]) is None


def test_a_bom_and_crlf_lines_are_read(app_ctx, runner, tmp_path, sirets):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([HEADER, line(sirets[0], "11910843391", "BOM")]).encode() + b"\r\n")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert org(sirets[0]).name == "BOM"


def test_the_inline_siret_check_agrees_with_python_stdnum():
    import random

    from stdnum.fr import siret as stdnum_siret

    from app.referential.training_orgs import valid_siret as inline

    draw = random.Random(14)
    numbers = ["35600000000048", "35600000000049", valid_siret(1), *(
        ("356000000" if n % 3 == 0 else "") + "".join(draw.choice("0123456789") for _ in range(14 if n % 3 else 5))
        for n in range(3000))]
    assert [bool(inline(n)) for n in numbers] == [stdnum_siret.is_valid(n) for n in numbers]
