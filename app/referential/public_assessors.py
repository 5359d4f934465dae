"""The public list of habilitated assessors (the manual: « la liste des évaluateurs », published for OPCO 2i):
a page and a CSV for anyone, no login; name, CQPs, end of habilitation and département, never an email."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.core.clock import today
from app.core.exports import export_response
from app.core.permissions import public
from app.extensions import db
from app.referential.models import Assessor, Cqp

bp = Blueprint("public_assessors", __name__)
CSV_HEADERS = ("Nom", "CQP", "Fin d'habilitation", "Département")


def public_assessors(on: date | None = None) -> list[dict]:
    """Assessors whose habilitation is valid on `on` (today), active accounts only, by name. An assessor with no
    CQP listed is habilitated for every CQP: the list then names every active CQP."""
    on = on or today()
    every_cqp = list(db.session.scalars(select(Cqp.code).where(Cqp.active.is_(True)).order_by(Cqp.code)))
    assessors = db.session.scalars(
        select(Assessor).join(Assessor.user)
        .where(Assessor.habilitation_until >= on, User.active.is_(True))
        .options(joinedload(Assessor.user), selectinload(Assessor.cqps))
        .order_by(User.last_name, User.first_name, Assessor.id))
    return [{"name": a.name, "cqp_codes": [c.code for c in a.cqps] or every_cqp, "all_cqps": not a.cqps,
             "habilitation_until": a.habilitation_until, "departement": a.departement} for a in assessors]


@bp.route("/evaluateurs-habilites")
@public
def assessor_list():
    on = today()
    return render_template("referential/public_assessors.html", assessors=public_assessors(on), today=on)


def csv_response():
    """The list as a CSV download (core.exports: UTF-8, `;`, formula-like cells defused)."""
    on = today()
    rows = ((a["name"], ", ".join(a["cqp_codes"]), a["habilitation_until"], a["departement"])
            for a in public_assessors(on))
    return export_response("csv", f"evaluateurs-habilites-{on.isoformat()}", CSV_HEADERS, rows)


@bp.route("/evaluateurs-habilites.csv")
@public
def assessor_csv():
    return csv_response()
