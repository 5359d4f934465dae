"""The statistic tables as rows (headers, then one list per row), for the CSV and XLSX exports of the
statistics page: the same figures as the page, with its filters."""

from __future__ import annotations

from app.core.exports import streamed_rows
from app.files.models import STATUS_LABELS, FileStatus
from app.stats.figures import (
    by_cqp,
    competences_not_acquired,
    competences_not_validated,
    files_by_status,
    funnel,
    session_dict,
    sessions_statement,
    share,
    time_in_status,
    time_to_decision,
)
from app.stats.filters import StatsFilters

STAT_TABLES = {
    "statuts": "Dossiers par statut",
    "entonnoir": "Entonnoir des dossiers",
    "cqp": "Décisions par CQP",
    "durees": "Durée dans chaque statut",
    "sessions": "Sessions de jury",
    "non-acquises": "Compétences le plus souvent non acquises",
    "non-validees": "Compétences le plus souvent non validées",
}


def stat_table(name: str, filters: StatsFilters):
    """(headers, rows iterator) of one statistic table, for the exports."""
    if name == "statuts":
        counts = files_by_status(filters)
        total = sum(counts.values())
        return (["Statut", "Code", "Dossiers", "Part (%)"],
                ([STATUS_LABELS[FileStatus(s)], s, n, share(n, total)] for s, n in counts.items()))
    if name == "entonnoir":
        counts = files_by_status(filters)
        return (["Étape", "Code", "Dossiers", "Part des dossiers créés (%)"],
                ([s["label"], s["step"], s["files"], s["share"]] for s in funnel(filters, sum(counts.values()))))
    if name == "cqp":
        return (["CQP", "Intitulé", "Dossiers", "Décisions", "Validé", "Partiel", "Non validé", "Abandonné",
                 "Taux validé (%)", "Taux partiel (%)", "Taux non validé (%)"],
                ([c["cqp_code"], c["cqp_title"], c["files"], c["decided"], c["valide"], c["partiel"],
                  c["non_valide"], c["abandonne"], c["valide_rate"], c["partiel_rate"], c["non_valide_rate"]]
                 for c in by_cqp(filters)))
    if name == "durees":
        rows = [[t["label"], t["status"], t["stays"], t["median_days"], t["p90_days"]] for t in time_in_status(filters)]
        decision = time_to_decision(filters)
        rows.append(["De l'inscription à la décision", "decision", decision["files"], decision["median_days"],
                     decision["p90_days"]])
        return (["Statut", "Code", "Passages", "Médiane (jours)", "90e centile (jours)"], iter(rows))
    if name == "sessions":
        def to_row(row):
            d = session_dict(row)
            return [d["id"], d["date"], d["location"], d["capacity"], d["seats_taken"], d["fill_rate"],
                    d["files"], d["rolled_over"], d["published"]]

        return (["Session", "Date", "Lieu", "Places offertes", "Places prises", "Remplissage (%)",
                 "Dossiers (filtrés)", "Reports (dossiers reportés)", "Publiée"],
                streamed_rows(sessions_statement(filters), to_row))
    if name in ("non-acquises", "non-validees"):
        items = competences_not_acquired(filters) if name == "non-acquises" else competences_not_validated(filters)
        return (["CQP", "Compétence", "Intitulé", "Échecs", "Évaluées", "Taux d'échec (%)"],
                ([c["cqp_code"], c["competence_code"], c["competence_title"], c["failures"], c["assessed"],
                  c["failure_rate"]] for c in items))
    raise KeyError(name)

