"""`flask demo`: a small demo data set with one user per role (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from app.accounts import services as accounts
from app.accounts.models import Role
from app.core.clock import today
from app.referential import services as referential

DEMO_PASSWORD = "Certifia-demo-2026"
DEMO_SIRET = "73282932000074"
DEMO_USERS = [
    (Role.SECRETARIAT, "secretariat@certifia-demo.fr", "Sophie", "Martin"),
    (Role.ENTREPRISE, "rh@chimie-demo.fr", "Claire", "Dubois"),
    (Role.EVALUATEUR, "evaluateur@certifia-demo.fr", "Marc", "Lefèvre"),
    (Role.JURY, "jury@certifia-demo.fr", "Nadia", "Benali"),
    (Role.PARTENAIRE, "opco@certifia-demo.fr", "Olivier", "Petit"),
]


def load_demo() -> list[tuple[str, str, str]]:
    if not referential.list_cqps():
        referential.load_referential()
    establishment = accounts.find_establishment(DEMO_SIRET) or accounts.create_establishment(
        DEMO_SIRET, "Chimie Démo SAS", address="12 rue des Alambics", postcode="69007", city="Lyon",
        contact_email="contact@chimie-demo.fr",
    )
    logins = []
    for role, email, first, last in DEMO_USERS:
        user = accounts.find_user_by_email(email)
        if user is None:
            if role == Role.EVALUATEUR:
                assessor = referential.create_assessor(email, first, last, today() + timedelta(days=3 * 365))
                user = assessor.user
                accounts.set_password(user, DEMO_PASSWORD)
            else:
                accounts.create_user(email, role, password=DEMO_PASSWORD, first_name=first, last_name=last,
                                     establishment=establishment if role == Role.ENTREPRISE else None)
        logins.append((role.value, email, DEMO_PASSWORD))
    return logins
