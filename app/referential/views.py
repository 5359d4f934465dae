"""Secretariat: the CQP referential and the assessors with their habilitation."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.core.permissions import roles_required
from app.referential import services

bp = Blueprint("referential", __name__, url_prefix="/referentiel")


@bp.route("/cqp")
@roles_required("secretariat")
def cqp_list():
    return render_template("referential/cqp_list.html", cqps=services.list_cqps(include_inactive=True))
