"""Charts as server-rendered SVG: no JavaScript, no CDN, nothing for the CSP to block.

Each chart is an image with a <title> and a <desc> (role="img", aria-labelledby), and the page
shows its table beside it: the table is the text alternative and the exact figures."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 560
LABEL_WIDTH = 200
VALUE_WIDTH = 70
BAR_HEIGHT = 22
GAP = 8
TOP = 8
COLOURS = {"blue": "#1f4e79", "green": "#17643a", "orange": "#8a4b00", "red": "#a4161a", "grey": "#6b7280"}


def _number(value: float | int | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}".replace(".", ",") if isinstance(value, float) and not float(value).is_integer() \
        else f"{int(value)}"
    return f"{text}{unit}"


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>"
    )


def _label(y: float, text: str) -> str:
    shown = text if len(text) <= 30 else text[:29] + "…"
    return (f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT / 2 + 4:.0f}" text-anchor="end" font-size="12" '
            f'fill="#1b1b1b">{escape(shown)}</text>')


def bar_chart(chart_id: str, title: str, desc: str, items: Sequence[tuple[str, float | int | None]], *,
              unit: str = "", colour: str = "blue", max_value: float | None = None) -> Markup:
    """Horizontal bars, one per (label, value), the value written at the end of the bar."""
    values = [v or 0 for _, v in items]
    top = max_value or max(values, default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = TOP * 2 + max(len(items), 1) * (BAR_HEIGHT + GAP)
    body = []
    for index, (label, value) in enumerate(items):
        y = TOP + index * (BAR_HEIGHT + GAP)
        width = max((value or 0) / top * plot, 0)
        body.append(_label(y, label))
        body.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                    f'fill="{COLOURS[colour]}" rx="2"/>')
        body.append(f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR_HEIGHT / 2 + 4:.0f}" font-size="12" '
                    f'fill="#1b1b1b">{escape(_number(value, unit))}</text>')
    if not items:
        body.append(f'<text x="{LABEL_WIDTH}" y="{TOP + 16}" font-size="13" fill="#4d4d4d">Aucune donnée</text>')
    return _frame(chart_id, title, desc, height, body)


def stacked_chart(chart_id: str, title: str, desc: str,
                  rows: Sequence[tuple[str, Sequence[tuple[str, float | int, str]]]]) -> Markup:
    """One 100 % bar per row, split in segments (label, value, colour); a legend below."""
    plot = WIDTH - LABEL_WIDTH - 10
    legend: dict[str, str] = {}
    height = TOP * 2 + max(len(rows), 1) * (BAR_HEIGHT + GAP) + 24
    body = []
    for index, (label, segments) in enumerate(rows):
        y = TOP + index * (BAR_HEIGHT + GAP)
        body.append(_label(y, label))
        total = sum(v for _, v, _ in segments) or 0
        x = float(LABEL_WIDTH)
        if not total:
            body.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{plot}" height="{BAR_HEIGHT}" fill="none" '
                        f'stroke="#c9ced6"/><text x="{LABEL_WIDTH + 6}" y="{y + BAR_HEIGHT / 2 + 4:.0f}" '
                        f'font-size="12" fill="#4d4d4d">pas encore de décision</text>')
        for seg_label, value, colour in segments:
            legend[seg_label] = colour
            if not total or not value:
                continue
            width = value / total * plot
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                        f'fill="{COLOURS[colour]}"><title>{escape(seg_label)} : {value}</title></rect>')
            if width > 34:
                body.append(f'<text x="{x + 4:.1f}" y="{y + BAR_HEIGHT / 2 + 4:.0f}" font-size="11" fill="#fff">'
                            f'{escape(_number(100.0 * value / total, " %"))}</text>')
            x += width
    legend_y = height - 14
    x = float(LABEL_WIDTH)
    for seg_label, colour in legend.items():
        body.append(f'<rect x="{x:.0f}" y="{legend_y - 10}" width="12" height="12" fill="{COLOURS[colour]}"/>'
                    f'<text x="{x + 16:.0f}" y="{legend_y}" font-size="12" fill="#1b1b1b">{escape(seg_label)}</text>')
        x += 24 + 7 * len(seg_label)
    if not rows:
        body.append(f'<text x="{LABEL_WIDTH}" y="{TOP + 16}" font-size="13" fill="#4d4d4d">Aucune donnée</text>')
    return _frame(chart_id, title, desc, height, body)


def statistics_charts(stats) -> dict[str, Markup]:
    """The charts of the statistics page (app.stats.figures.BranchStatistics)."""
    from app.files.models import STATUS_LABELS, FileStatus

    scope = stats.filters.describe()
    return {
        "statuses": bar_chart(
            "graphique-statuts", "Dossiers par statut", f"Nombre de dossiers dans chaque statut ({scope}).",
            [(STATUS_LABELS[FileStatus(s)], n) for s, n in stats.files_by_status.items()]),
        "funnel": bar_chart(
            "graphique-entonnoir", "Entonnoir des dossiers",
            f"Nombre de dossiers ayant atteint chaque étape, de la création à la décision ({scope}).",
            [(step["label"], step["files"]) for step in stats.funnel], colour="green"),
        "cqp": stacked_chart(
            "graphique-cqp", "Décisions par CQP",
            f"Répartition des décisions validé, partiel et non validé pour chaque CQP ({scope}).",
            [(row["cqp_code"], [("Validé", row["valide"], "green"), ("Partiel", row["partiel"], "orange"),
                                ("Non validé", row["non_valide"], "red")]) for row in stats.by_cqp]),
        "durations": bar_chart(
            "graphique-durees", "Durée médiane dans chaque statut (jours)",
            f"Nombre médian de jours passés dans chaque statut ({scope}).",
            [(row["label"], row["median_days"]) for row in stats.time_in_status]
            + [("Inscription → décision", stats.time_to_decision["median_days"])], unit=" j"),
        "sessions": bar_chart(
            "graphique-sessions", "Remplissage des dernières sessions de jury (%)",
            f"Part des places prises dans chacune des dernières sessions de jury ({scope}).",
            [(row["date"].strftime("%d/%m/%Y"), row["fill_rate"]) for row in stats.sessions],
            unit=" %", max_value=100.0),
    }
