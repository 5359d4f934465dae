"""Home page of every role ("what do I have to do now?"), statistics, lists and exports."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from app.core import audit, exports, listing
from app.core.errors import DomainError
from app.core.permissions import roles_required
from app.files.models import STATUS_LABELS, FileStatus
from app.files.progress import since_text
from app.stats import cache, charts, csv_export, homes, lists, tables
from app.stats.filters import StatsFilters, filter_choices, parse_filters

bp = Blueprint("stats", __name__)


@bp.record_once
def _register_template_helpers(state) -> None:
    listing.init_app(state.app)
    state.app.jinja_env.globals["since_text"] = since_text


# ------------------------------------------------------------------ home pages


@bp.route("/entreprise")
@roles_required("entreprise")
def company_home():
    return render_template("stats/company_home.html", home=homes.company_home(current_user))


@bp.route("/candidat")
@roles_required("candidat")
def candidate_home():
    return render_template("stats/candidate_home.html", home=homes.candidate_home(current_user))


@bp.route("/evaluateur")
@roles_required("evaluateur")
def assessor_home():
    return render_template("stats/assessor_home.html", home=homes.assessor_home(current_user))


@bp.route("/jury")
@roles_required("jury")
def jury_home():
    return render_template("stats/jury_home.html", home=homes.jury_home(current_user))


@bp.route("/secretariat")
@roles_required("secretariat")
def secretariat_home():
    return render_template("stats/secretariat_home.html", home=homes.secretariat_home())


@bp.route("/partenaire")
@roles_required("partenaire")
def partner_home():
    return render_template("stats/partner_home.html", calls=homes.partner_recent_calls(current_user),
                           base_url=current_app.config["BASE_URL"])


# ------------------------------------------------------------------ statistics


@bp.route("/statistiques")
@roles_required("secretariat")
def statistics():
    errors: dict = {}
    try:
        filters = parse_filters(request.args)
    except DomainError as error:
        filters, errors = StatsFilters(), error.errors
    stats = cache.statistics(filters)
    if stats is None:  # a filter set nobody asked for lately, computed in the background: the page reloads
        page = render_template("stats/statistics.html", stats=None, filters=filters, errors=errors,
                               choices=cache.filter_choices(), retry_after=cache.RETRY_AFTER_SECONDS)
        return page, (422 if errors else 200), {"Refresh": str(cache.RETRY_AFTER_SECONDS)}
    return render_template(
        "stats/statistics.html", stats=stats, filters=filters, errors=errors, choices=cache.filter_choices(),
        charts=charts.statistics_charts(stats), tables=tables.STAT_TABLES, status_labels=STATUS_LABELS,
    ), (422 if errors else 200)


@bp.route("/statistiques/export/<name>.<fmt>")
@roles_required("secretariat")
def statistics_export(name: str, fmt: str):
    if name not in tables.STAT_TABLES or fmt not in exports.FORMATS:
        return render_template("errors/error.html", code=404, message="Cet export n'existe pas."), 404
    headers, rows = tables.stat_table(name, parse_filters(request.args))
    return exports.export_response(fmt, f"statistiques-{name}", headers, rows, tables.STAT_TABLES[name])


# ------------------------------------------------------------------ lists


@bp.route("/statistiques/dossiers")
@roles_required("secretariat")
def file_list():
    query = lists.parse_file_list_args(request.args)
    return render_template("stats/file_list.html", query=query, page=lists.file_list_page(query),
                           choices=filter_choices(), statuses=list(FileStatus))


@bp.route("/statistiques/dossiers/export.<fmt>")
@roles_required("secretariat")
def file_list_export(fmt: str):
    query = lists.parse_file_list_args(request.args)
    audit.record_reads_of(f"export de la liste des dossiers ({fmt})", lists.file_list_candidate_ids(query))
    if fmt == "csv":  # formatted by PostgreSQL's COPY when it is there (app/stats/csv_export.py)
        return exports.stream_response(csv_export.file_list_csv(query), f"{exports.CSV_MIMETYPE}; charset=utf-8",
                                       "dossiers.csv")
    rows = exports.streamed_rows(lists.file_list_statement(query), lists.file_row)
    return exports.export_response(fmt, "dossiers", lists.FILE_HEADERS, rows, "Dossiers")


@bp.route("/statistiques/acces-partenaires")
@roles_required("secretariat")
def access_log():
    query = lists.parse_access_log_args(request.args)
    return render_template("stats/access_log.html", query=query, page=lists.access_log_page(query),
                           callers=lists.partner_callers())


@bp.route("/statistiques/acces-partenaires/export.<fmt>")
@roles_required("secretariat")
def access_log_export(fmt: str):
    query = lists.parse_access_log_args(request.args)
    rows = exports.streamed_rows(lists.access_log_statement(query), lists.access_row)
    return exports.export_response(fmt, "acces-partenaires", lists.ACCESS_HEADERS, rows, "Accès partenaires")
