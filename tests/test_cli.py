"""Command line (README): seed, demo, users create, tokens create, outbox send (db upgrade is what the
test session itself starts with)."""

from __future__ import annotations

import json
import socket

import pytest
from sqlalchemy import func, select

from app.accounts.models import ApiToken, Establishment, User
from app.core.mail import queue_email
from app.core.models import OutboxEmail
from app.extensions import db
from app.referential.models import Competence, Cqp
from tests.factories import make_user, valid_siret


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_twice_creates_nothing(app_ctx, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    cqps, competences = count(Cqp), count(Competence)
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "0 CQP créé, 0 mis à jour, 0 compétence créée, 0 mise à jour" in second.output
    assert (count(Cqp), count(Competence)) == (cqps, competences)
    assert cqps == 13


def test_seed_from_an_edited_copy_updates_titles_without_breaking_files(app_ctx, runner, tmp_path, monkeypatch):
    from app.referential import services
    from tests.factories import get_cqp, make_assessor, make_file

    file = make_file(cqp_code="MNT-TMI", competences=2, assessor=make_assessor())
    chosen = [(c.id, c.code) for c in file.competences]
    data = json.loads((services.SEED_DIR / "referential.json").read_text(encoding="utf-8"))
    entry = next(c for c in data["cqps"] if c["code"] == "MNT-TMI")
    entry["title"] = "Technicien(ne) de maintenance industrielle (intitulé 2027)"
    entry["competences"][0]["title"] = "Diagnostiquer une panne (intitulé 2027)"
    (tmp_path / "referential.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(services, "SEED_DIR", tmp_path)

    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "0 CQP créé, 1 mis à jour, 0 compétence créée, 1 mise à jour" in result.output
    db.session.expire_all()
    cqp = get_cqp("MNT-TMI")
    assert cqp.title == "Technicien(ne) de maintenance industrielle (intitulé 2027)"
    assert cqp.competences[0].title == "Diagnostiquer une panne (intitulé 2027)"
    assert [(c.id, c.code) for c in file.competences] == chosen
    assert runner.invoke(args=["seed"]).output.count("0 mis à jour") == 1  # and again: nothing to do


def test_seed_restores_a_title_changed_in_the_database(app_ctx, runner):
    cqp = db.session.scalar(select(Cqp).where(Cqp.code == "LOG-AGL"))
    original = cqp.title
    cqp.title = "Titre modifié à la main"
    db.session.commit()
    result = runner.invoke(args=["seed"])
    assert "1 mis à jour" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Cqp.title).where(Cqp.code == "LOG-AGL")) == original


def test_demo_twice_is_idempotent_and_prints_the_logins(app_ctx, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    users, establishments = count(User), count(Establishment)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert (count(User), count(Establishment)) == (users, establishments)
    for role in ("secretariat", "entreprise", "evaluateur", "jury", "partenaire"):
        assert role in second.output
    assert "Certifia-demo-2026" in second.output


def test_demo_logins_work(app_ctx, runner, client):
    from tests.conftest import login

    runner.invoke(args=["demo"])
    assert login(client, "secretariat@certifia-demo.fr", "Certifia-demo-2026").status_code == 302


# ---------------------------------------------------------------- users create


def test_users_create(app_ctx, runner):
    result = runner.invoke(args=["users", "create", "Nadia@Exemple.fr", "--role", "jury", "--password",
                                 "douze-caracteres", "--name", "Nadia Benali"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "nadia@exemple.fr"))
    assert (user.role, user.first_name, user.last_name) == ("jury", "Nadia", "Benali")
    assert user.password_hash.startswith("$argon2id$")
    assert "Utilisateur créé : nadia@exemple.fr (jury)" in result.output


def test_users_create_unknown_role_is_a_french_error(app_ctx, runner):
    result = runner.invoke(args=["users", "create", "x@exemple.fr", "--role", "directeur"])
    assert result.exit_code == 1
    assert "Rôle inconnu : directeur" in result.output and "secretariat" in result.output
    assert count(User) == 0


def test_users_create_invalid_siret(app_ctx, runner):
    result = runner.invoke(args=["users", "create", "rh@exemple.fr", "--role", "entreprise",
                                 "--siret", "12345678901234"])
    assert result.exit_code == 1
    assert "Le SIRET doit comporter 14 chiffres et une clé de contrôle valide." in result.output
    assert count(User) == 0 and count(Establishment) == 0


def test_users_create_duplicate_email(app_ctx, runner):
    make_user("jury", email="deja@exemple.fr")
    result = runner.invoke(args=["users", "create", "DEJA@exemple.fr", "--role", "partenaire"])
    assert result.exit_code == 1
    assert "Un compte existe déjà pour l'adresse deja@exemple.fr" in result.output
    assert count(User) == 1


def test_users_create_short_password(app_ctx, runner):
    result = runner.invoke(args=["users", "create", "x@exemple.fr", "--role", "jury", "--password", "court"])
    assert result.exit_code == 1
    assert "au moins 12 caractères" in result.output
    assert count(User) == 0


def test_users_create_invalid_email(app_ctx, runner):
    result = runner.invoke(args=["users", "create", "pas-une-adresse", "--role", "jury"])
    assert result.exit_code == 1 and "L'adresse email n'est pas valide." in result.output


def test_users_create_entreprise_without_siret(app_ctx, runner):
    result = runner.invoke(args=["users", "create", "rh@exemple.fr", "--role", "entreprise"])
    assert result.exit_code == 1 and "établissement" in result.output
    assert count(User) == 0


def test_users_create_entreprise_with_a_new_siret_creates_the_establishment(app_ctx, runner):
    siret = valid_siret()
    result = runner.invoke(args=["users", "create", "rh@exemple.fr", "--role", "entreprise", "--siret", siret,
                                 "--name", "Claire Dubois", "--password", "douze-caracteres"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "rh@exemple.fr"))
    assert user.establishment.siret == siret


def test_users_create_entreprise_with_an_existing_siret_joins_it(app_ctx, runner):
    from tests.factories import make_establishment

    establishment = make_establishment("Chimie Existante")
    result = runner.invoke(args=["users", "create", "rh2@exemple.fr", "--role", "entreprise",
                                 "--siret", establishment.siret])
    assert result.exit_code == 0, result.output
    assert count(Establishment) == 1
    assert db.session.scalar(select(User).where(User.email == "rh2@exemple.fr")).establishment_id == establishment.id


def test_users_create_failure_after_a_new_siret_writes_nothing(app_ctx, runner):
    make_user("jury", email="deja@exemple.fr")
    result = runner.invoke(args=["users", "create", "deja@exemple.fr", "--role", "entreprise",
                                 "--siret", valid_siret()])
    assert result.exit_code == 1
    assert count(Establishment) == 0


# ---------------------------------------------------------------- tokens create


def test_tokens_create_prints_the_token_alone_on_the_last_line_and_it_works(app, app_ctx, runner):
    make_user("partenaire", email="opco@exemple.fr")
    result = runner.invoke(args=["tokens", "create", "opco@exemple.fr"])
    assert result.exit_code == 0, result.output
    token = result.output.rstrip("\n").splitlines()[-1]
    assert token and " " not in token and len(token) >= 43
    stored = db.session.scalar(select(ApiToken.token_hash))
    assert token not in stored  # only the hash is kept
    response = app.test_client().get("/api/v1/cqps", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json) == 13


def test_tokens_create_unknown_user(app_ctx, runner):
    result = runner.invoke(args=["tokens", "create", "personne@exemple.fr"])
    assert result.exit_code == 1 and "aucun utilisateur" in result.output
    assert count(ApiToken) == 0


# ---------------------------------------------------------------- outbox send


def _queue(to="destinataire@exemple.fr"):
    user = make_user("jury", email=to)
    queue_email("test", to, "Objet de test", "account_invitation", user=user, link="http://lien", days=7)
    db.session.commit()


def test_outbox_send_with_nothing_to_send_exits_0(app_ctx, runner):
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "0 en attente" in result.output


def test_outbox_send_delivers_and_exits_0(app_ctx, runner, mailbox):
    _queue()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "1 email envoyé," in result.output
    assert len(mailbox.to("destinataire@exemple.fr")) == 1


def test_outbox_send_with_smtp_down_exits_1_and_keeps_the_email(app, app_ctx, runner, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_PORT", closed)
    _queue()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 1
    assert "1 à réessayer" in result.output and "1 en attente" in result.output
    assert db.session.scalar(select(OutboxEmail.status)) == "pending"


@pytest.mark.parametrize("command,text", [("users", "Gestion des utilisateurs"), ("tokens", "Jetons d'API"),
                                          ("outbox", "Emails en attente")])
def test_command_groups_have_french_help(runner, command, text):
    result = runner.invoke(args=[command, "--help"])
    assert result.exit_code == 0 and text in result.output
