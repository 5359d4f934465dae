"""RFC 9457 problem+json responses, French details."""

from __future__ import annotations

from flask import jsonify

TITLES = {
    400: "Requête mal formée",
    401: "Authentification requise",
    403: "Action non permise",
    404: "Introuvable",
    405: "Méthode non permise",
    409: "Conflit avec l'état actuel",
    410: "Lien expiré ou déjà utilisé",
    413: "Contenu trop volumineux",
    422: "Données invalides",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service indisponible",
}


def problem(status: int, detail: str, errors: dict | None = None, **extra):
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Erreur"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response
