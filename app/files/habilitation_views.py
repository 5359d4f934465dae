"""The secretariat's page of the assessors whose habilitation has ended and the files they still hold."""

from __future__ import annotations

from flask import render_template

from app.core.clock import today
from app.core.permissions import roles_required
from app.files.assessor_files import NEEDS_THE_ASSESSOR, open_files_of_ended_assessors
from app.files.web import bp


@bp.route("/secretariat/habilitations-echues")
@roles_required("secretariat")
def ended_habilitations():
    on = today()
    return render_template("files/ended_habilitations.html", ended=open_files_of_ended_assessors(on), today=on,
                           needs_the_assessor=NEEDS_THE_ASSESSOR)
