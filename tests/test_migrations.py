"""The migrations build exactly the schema the models describe (on SQLite and PostgreSQL)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_migrations_match_models(app_ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"migrations et modèles divergent : {diff}"


def test_the_stays_of_an_existing_history_are_filled_in_by_the_migration(app, app_ctx, today_is):
    """b5e1c8d42f60 adds status_changes.stay_seconds and fills it from the history itself (each stay
    from the previous row, or the file's creation, to the row): the same values the workflow writes."""
    from datetime import date

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from app.files.models import StatusChange
    from app.files.workflow import fire
    from tests import factories

    today_is("2027-03-01")
    file = factories.make_file(interview_date=date(2027, 3, 20))
    company = factories.make_user("entreprise", establishment=file.establishment)
    today_is("2027-03-04")
    fire(file, "confirm_assessor", company)
    today_is("2027-03-05")
    fire(file, "withdraw", company, reason="Départ de l'entreprise")
    db.session.commit()
    written = [row.stay_seconds for row in db.session.scalars(
        select(StatusChange).where(StatusChange.file_id == file.id).order_by(StatusChange.at, StatusChange.id))]
    assert 3 * 86400 <= written[0] < 3 * 86400 + 600 and 86400 - 600 < written[1] <= 86400 + 600
    db.session.close()

    directory = str(app.extensions["migrate"].directory)
    downgrade(directory=directory, revision="7d3e9a41c2b5")
    upgrade(directory=directory)

    filled = [row[0] for row in db.session.execute(text(
        "SELECT stay_seconds FROM status_changes WHERE file_id = :id ORDER BY at, id"), {"id": file.id})]
    assert len(filled) == 2 and all(abs(a - b) <= 1 for a, b in zip(filled, written, strict=True)), (filled, written)
