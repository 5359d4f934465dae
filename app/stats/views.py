"""Home page of every role ("what do I have to do now?"), statistics, exports."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.core.permissions import roles_required

bp = Blueprint("stats", __name__)


@bp.route("/entreprise")
@roles_required("entreprise")
def company_home():
    return render_template("stats/company_home.html")


@bp.route("/candidat")
@roles_required("candidat")
def candidate_home():
    return render_template("stats/candidate_home.html")


@bp.route("/evaluateur")
@roles_required("evaluateur")
def assessor_home():
    return render_template("stats/assessor_home.html")


@bp.route("/jury")
@roles_required("jury")
def jury_home():
    return render_template("stats/jury_home.html")


@bp.route("/secretariat")
@roles_required("secretariat")
def secretariat_home():
    return render_template("stats/secretariat_home.html")


@bp.route("/partenaire")
@roles_required("partenaire")
def partner_home():
    return render_template("stats/partner_home.html")
