"""Assessor independence: the organisation an assessor declares (its SIRET), by the assessor on their account
or by the secretariat on the assessor's page. The check itself (an assessor of the candidate's establishment or
of the file's training organisation cannot be confirmed on the file) is app.files.independence, read by the
workflow's confirmation guard."""

from __future__ import annotations

from app.accounts import services as accounts
from app.core import audit
from app.core.clock import now
from app.extensions import db
from app.referential.models import Assessor


def declare_organisation(assessor: Assessor, actor, *, organisation_siret, organisation=None) -> Assessor:
    """Records the declared SIRET (422 naming `organisation_siret` when it is not a valid SIRET; empty clears
    it) and, when given, the organisation's name."""
    siret = accounts.normalize_siret(organisation_siret)
    checked = accounts.check_siret(siret, "organisation_siret") if siret else None
    previous = assessor.organisation_siret
    assessor.organisation_siret = checked
    if organisation is not None:
        assessor.organisation = organisation.strip()[:255] or None
    db.session.flush()
    audit.record("assessor.declare_organisation", actor, assessor, previous=previous, siret=checked,
                 at=now().isoformat(timespec="seconds"))
    return assessor
