"""The Carif-Oref API client (app/referential/quiforme.py) against a real HTTP server on loopback serving the
documented JSON (API Entreprise, carif_oref/…/certifications_qualiopi_france_competences): an answer stored and
kept in cache, and the imported public list as the fallback on 404, 5xx and timeouts."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.extensions import db
from app.referential import quiforme
from app.referential.training_org_models import TrainingOrganisation, TrainingOrgNda
from tests.factories import valid_siret


def documented_answer(siret: str) -> dict:
    return {"data": {
        "siret": siret, "code_uai": None, "unite_legale_avec_plusieurs_nda": False,
        "declarations_activites_etablissement": [{
            "numero_de_declaration": "11910843391", "actif": True, "date_derniere_declaration": "2026-01-30",
            "date_debut_exercice": "2025-01-01", "date_fin_exercice": "2025-12-31",
            "certification_qualiopi": {"action_formation": True, "bilan_competences": False,
                                       "validation_acquis_experience": True, "apprentissage": False,
                                       "obtention_via_unite_legale": True},
            "specialites": {"specialite_1": {"code": "313", "libelle": "Finances, banque, assurances"},
                            "specialite_2": {"code": None, "libelle": None}},
        }],
        "habilitations_france_competence": [{
            "code": "RNCP10013", "actif": True, "date_actif": "2020-01-30", "date_fin_enregistrement": "2030-01-30",
            "date_decision": "2020-01-30", "habilitation_pour_former": True,
            "habilitation_pour_organiser_l_evaluation": True, "sirets_organismes_certificateurs": ["12345678901234"]}],
    }, "links": {}, "meta": {}}


class CarifOref:
    """What the loopback server answers (`mode`) and what it was asked."""

    def __init__(self):
        self.mode = "ok"
        self.requests: list[tuple[str, str]] = []


@pytest.fixture
def carif_oref(app):
    state = CarifOref()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            state.requests.append((self.path, self.headers.get("Authorization", "")))
            siret = self.path.split("/etablissements/")[1].split("/")[0]
            if state.mode == "slow":
                time.sleep(2.5)
            if state.mode == "404":
                body, status = {"errors": [{"code": "36003", "title": "Entité non trouvée"}]}, 404
            elif state.mode == "500":
                body, status = {"errors": [{"title": "Erreur interne"}]}, 502
            else:
                body, status = documented_answer(siret), 200
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # a slow answer still sleeping does not hold the test back
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {k: app.config.get(k) for k in ("QUIFORME_API_URL", "QUIFORME_API_TOKEN", "QUIFORME_TIMEOUT")}
    app.config.update(QUIFORME_API_URL=f"http://127.0.0.1:{server.server_address[1]}/v3",
                      QUIFORME_API_TOKEN="jeton-de-test", QUIFORME_TIMEOUT=1)
    quiforme._unknown_until.clear()
    yield state
    app.config.update(saved)
    quiforme._unknown_until.clear()
    server.shutdown()
    server.server_close()


def listed(siret: str, *, qualiopi: bool = False) -> TrainingOrganisation:
    org = TrainingOrganisation(siret=siret, siren=siret[:9], name="DE LA LISTE", qualiopi_actions_formation=qualiopi,
                               ndas=[TrainingOrgNda(number="84691234569", active=False)])
    db.session.add(org)
    db.session.commit()
    return org


def test_the_documented_answer_is_stored_and_kept_in_cache(app_ctx, carif_oref):
    siret = valid_siret(801)
    org = quiforme.lookup(siret)
    assert org.qualiopi == {"actions_formation": True, "bilans_competences": False, "vae": True,
                            "apprentissage": False}
    assert [(n.number, n.active) for n in org.ndas] == [("11910843391", True)]
    assert org.last_declaration_on == date(2026, 1, 30) and org.source == "quiforme"
    assert org.specialities == [{"code": "313", "label": "Finances, banque, assurances"}]
    assert org.warning is None
    path, authorization = carif_oref.requests[0]
    assert path.startswith(f"/v3/carif_oref/etablissements/{siret}/certifications_qualiopi_france_competences?")
    assert authorization == "Bearer jeton-de-test"
    db.session.commit()
    assert quiforme.lookup(siret) is org and len(carif_oref.requests) == 1  # from the cache


def test_the_api_answer_replaces_what_the_list_said(app_ctx, carif_oref):
    siret = valid_siret(802)
    listed(siret)
    org = quiforme.lookup(siret)
    assert org.name == "DE LA LISTE" and org.qualiopi_actions_formation
    assert [(n.number, n.active) for n in org.ndas] == [("11910843391", True)]


@pytest.mark.parametrize("mode", ["404", "500", "slow"])
def test_the_imported_list_answers_when_the_api_cannot(app_ctx, carif_oref, mode):
    carif_oref.mode = mode
    siret = valid_siret(803)
    listed(siret)
    started = time.monotonic()
    org = quiforme.lookup(siret)
    assert time.monotonic() - started < 2.2  # the timeout (1 s here, 5 s by default), not the server's 2.5 s
    assert org.name == "DE LA LISTE" and org.source == "liste_publique" and not org.has_active_nda
    assert quiforme.lookup(valid_siret(804)) is None  # known neither to the API nor to the list


def test_a_siret_the_api_does_not_know_is_not_asked_again_before_the_cache_expires(app_ctx, carif_oref):
    carif_oref.mode = "404"
    siret = valid_siret(805)
    assert quiforme.lookup(siret) is None and quiforme.lookup(siret) is None
    assert len(carif_oref.requests) == 1


def test_without_configuration_only_the_list_answers(app_ctx, app):
    assert not quiforme.configured()
    siret = valid_siret(806)
    listed(siret, qualiopi=True)
    assert quiforme.lookup(siret).source == "liste_publique"
