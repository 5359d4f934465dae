"""One session per device: a second login keeps the first device logged in; logout ends only that
device's session; « Se déconnecter partout » ends all; a password change or reset ends the others;
a session of another device can be ended from « Mon compte » (a stolen cookie is revoked)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts import services
from app.accounts.models import UserSession
from app.extensions import db
from tests.accounts.conftest import page_text
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_user


def _two_devices(app, user):
    laptop, phone = app.test_client(), app.test_client()
    assert login(laptop, user.email, PASSWORD).status_code == 302
    assert login(phone, user.email, PASSWORD).status_code == 302
    return laptop, phone


def _logged_in(browser, url="/mon-compte") -> bool:
    return browser.get(url).status_code == 200


def _open_sessions(user) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                             UserSession.ended_at.is_(None))))


def test_a_second_login_keeps_the_first_device_logged_in(app, app_ctx):
    user = make_user("secretariat")
    laptop, phone = _two_devices(app, user)
    assert _logged_in(laptop) and _logged_in(phone)
    assert len(_open_sessions(user)) == 2


def test_logout_ends_only_that_device(app, app_ctx):
    user = make_user("entreprise")
    laptop, phone = _two_devices(app, user)
    stolen = laptop.get_cookie("session").value
    response = submit_form(laptop, "/deconnexion", {}, form_url="/mon-compte")
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    assert not _logged_in(laptop)
    assert _logged_in(phone)
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not _logged_in(replay)  # a copy of the ended session's cookie is dead too
    assert len(_open_sessions(user)) == 1


def test_logout_everywhere_ends_every_device(app, app_ctx):
    user = make_user("jury")
    laptop, phone = _two_devices(app, user)
    response = submit_form(phone, "/mon-compte/deconnexion-partout", {}, form_url="/mon-compte")
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    assert not _logged_in(laptop) and not _logged_in(phone)
    assert _open_sessions(user) == []
    assert "Vous êtes déconnecté de tous vos appareils (2 sessions terminées)." in page_text(phone.get("/connexion"))


def test_logout_everywhere_needs_the_csrf_token(app, app_ctx):
    user = make_user("jury")
    laptop, phone = _two_devices(app, user)
    assert phone.post("/mon-compte/deconnexion-partout").status_code == 400
    assert _logged_in(laptop) and _logged_in(phone)


def test_the_account_page_lists_the_open_sessions_and_marks_this_device(app, app_ctx):
    user = make_user("entreprise")
    laptop = app.test_client()
    login(laptop, user.email, PASSWORD)
    phone = app.test_client()
    submit_form(phone, "/connexion", {"email": user.email, "password": PASSWORD},
                headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"})
    html = page_text(phone.get("/mon-compte"))
    assert "Vos sessions ouvertes" in html and "Safari sur iPhone" in html
    assert html.count("cet appareil</span>") == 1
    assert html.count("Terminer cette session") == 1  # the laptop's, not this one's


def test_ending_another_device_from_the_account_page_revokes_its_cookie(app, app_ctx):
    user = make_user("entreprise")
    laptop, phone = _two_devices(app, user)
    laptop_session = next(s for s in _open_sessions(user) if s.id == min(x.id for x in _open_sessions(user)))
    html = phone.get("/mon-compte").get_data(as_text=True)
    assert f"/mon-compte/sessions/{laptop_session.id}/terminer" in html
    response = submit_form(phone, f"/mon-compte/sessions/{laptop_session.id}/terminer", {}, form_url="/mon-compte")
    assert response.status_code == 302
    assert not _logged_in(laptop) and _logged_in(phone)


def test_a_user_cannot_end_someone_elses_session(app, app_ctx):
    user, other = make_user("entreprise"), make_user("entreprise")
    mine = app.test_client()
    login(mine, user.email, PASSWORD)
    theirs = app.test_client()
    login(theirs, other.email, PASSWORD)
    their_session = _open_sessions(other)[0]
    response = submit_form(mine, f"/mon-compte/sessions/{their_session.id}/terminer", {}, form_url="/mon-compte")
    assert response.status_code == 303
    assert "Cette session n'existe pas ou est déjà terminée." in page_text(mine.get("/mon-compte"))
    assert _logged_in(theirs)


def test_a_password_reset_ends_every_session_and_logs_in_this_device(app, app_ctx, mailbox):
    user = make_user("entreprise")
    laptop, phone = _two_devices(app, user)
    browser = app.test_client()
    submit_form(browser, "/mot-de-passe-oublie", {"email": user.email})
    link = next(x for x in mailbox.links_in(mailbox.last_to(user.email)) if "/mot-de-passe/" in x)
    path = re.sub(r"^https?://[^/]+", "", link)
    response = submit_form(browser, path, {"password": "une autre phrase secrète", "confirm": "une autre phrase secrète"})
    assert response.status_code == 302
    assert not _logged_in(laptop) and not _logged_in(phone)
    assert _logged_in(browser)
    assert len(_open_sessions(user)) == 1


def test_deactivation_ends_every_session(app, app_ctx):
    user = make_user("jury")
    admin = make_user("secretariat")
    laptop, phone = _two_devices(app, user)
    services.set_user_active(user, False, admin)
    db.session.commit()
    assert not _logged_in(laptop) and not _logged_in(phone)
    assert _open_sessions(user) == []


def test_a_forged_cookie_key_is_refused(app, app_ctx):
    user = make_user("jury")
    browser = app.test_client()
    login(browser, user.email, PASSWORD)
    with browser.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{user.id}:pas-une-vraie-cle"
    assert not _logged_in(browser)
