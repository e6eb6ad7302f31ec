"""The cohort report: one self-contained HTML page, inline SVG charts, Spanish or English.

>>> TEXT["es"]["title"], TEXT["en"]["title"]
('Selección de cohorte', 'Cohort selection')
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["TEXT", "render_report"]

TEXT: dict[str, dict[str, str]] = {
    "es": {
        "title": "Selección de cohorte",
        "summary": "Resumen",
        "candidates": "Personas candidatas",
        "vacancies": "Vacantes",
        "openings": "Puestos",
        "filled": "Puestos cubiertos",
        "total_score": "Puntaje total",
        "mean_score": "Puntaje medio",
        "greedy": "Selección por vacante (una tras otra)",
        "optimal": "Asignación óptima",
        "optimal_fair": "Asignación óptima con equidad",
        "gain": "La asignación óptima suma {d_score} puntos más ({d_pct}) y cubre {d_fill} "
        "puestos más que elegir la cabeza de cada lista vacante por vacante; esa selección "
        "habría ofrecido a {dup} personas a más de un empleador.",
        "scores": "Distribución de puntajes",
        "scores_note": "Barras grises: todos los pares elegibles; verdes: los asignados "
        "(cada serie a su propia escala).",
        "fill": "Cobertura por vacante",
        "vacancy": "Vacante",
        "title_col": "Puesto",
        "pool": "Elegibles",
        "fairness": "Equidad",
        "attribute": "Atributo",
        "group": "Grupo",
        "selected": "Seleccionadas",
        "rate": "Tasa de selección",
        "ratio": "Razón de impacto",
        "passes": "Cumple",
        "p_value": "p (Fisher exacto)",
        "yes": "sí",
        "no": "no",
        "fair_note": "Razón de impacto: tasa del grupo / tasa del mejor grupo (regla de los "
        "cuatro quintos: al menos 0,8). Con cohortes de unas 90 personas las razones varían "
        "mucho; la prueba exacta de Fisher compara cada grupo con el mejor: un p grande "
        "significa que la diferencia puede deberse al azar.",
        "fair_ok": "Se exigió que la tasa de selección de cada grupo de «{attr}» fuera al menos "
        "{ratio} de la del mejor grupo, y se cumple. Cuesta {cost} puntos ({cost_pct}) y {fill} "
        "puestos cubiertos frente a la asignación sin esa condición.",
        "fair_none": "NO existe ninguna asignación que cumpla la razón de impacto mínima de "
        "{ratio} para «{attr}» junto con los pares fijados. Esta asignación se calculó sin esa "
        "condición; revísela antes de firmar.",
        "training": "Brechas de formación principales",
        "skill": "Competencia",
        "missing": "Personas sin ella",
        "share": "Proporción",
        "how": "Cómo se decidió",
        "how_body": "<li>Se puntuó cada par persona–vacante con el motor de emparejamiento "
        "(competencias ESCO, experiencia, ubicación, certificados); los pares que no cumplen un "
        "requisito obligatorio (certificado, idioma, ubicación) nunca se usan.</li>"
        "<li>Solo se consideraron pares con puntaje de al menos {min_score}.</li>"
        "<li>Se eligió la asignación que maximiza la suma de puntajes: cada persona como mucho "
        "una vez, cada vacante como mucho sus puestos. El problema se resolvió de forma exacta "
        "({solver}); no es una heurística.</li>"
        "<li>Pares fijados por una persona: {locked}; excluidos: {excluded}; hogares que se "
        "mueven juntos: {households}.</li>"
        "<li>Género y edad no entran en el puntaje: solo se usan para la auditoría de equidad "
        "{fair_use}.</li>"
        "<li>Pares evaluados por el optimizador: {pairs_solved} de {pairs_allowed} permitidos "
        "({exact}).</li>"
        "<li>Esta selección es una propuesta: la decisión final es de quien firma.</li>",
        "fair_use_on": "y para la condición de equidad pedida",
        "fair_use_off": "",
        "exact_yes": "la reducción no pierde ninguna solución óptima",
        "exact_no": "lista reducida por vacante: aproximación",
        "none": "—",
    },
    "en": {
        "title": "Cohort selection",
        "summary": "Summary",
        "candidates": "Candidates",
        "vacancies": "Vacancies",
        "openings": "Openings",
        "filled": "Openings filled",
        "total_score": "Total score",
        "mean_score": "Mean score",
        "greedy": "Per-vacancy selection (one after another)",
        "optimal": "Optimal assignment",
        "optimal_fair": "Optimal assignment, fair",
        "gain": "The optimal assignment scores {d_score} more in total ({d_pct}) and fills "
        "{d_fill} more openings than taking the top of each shortlist vacancy by vacancy; that "
        "selection would have offered {dup} people to more than one employer.",
        "scores": "Score distribution",
        "scores_note": "Grey bars: all eligible pairs; green: the assigned ones "
        "(each series on its own scale).",
        "fill": "Fill rate per vacancy",
        "vacancy": "Vacancy",
        "title_col": "Job",
        "pool": "Eligible",
        "fairness": "Fairness",
        "attribute": "Attribute",
        "group": "Group",
        "selected": "Selected",
        "rate": "Selection rate",
        "ratio": "Impact ratio",
        "passes": "Passes",
        "p_value": "p (Fisher exact)",
        "yes": "yes",
        "no": "no",
        "fair_note": "Impact ratio: the group's rate / the best group's rate (four-fifths rule: "
        "at least 0.8). With cohorts of about 90 the ratios swing widely; Fisher's exact test "
        "compares each group with the best one: a large p means the gap may be chance.",
        "fair_ok": "Every '{attr}' group's selection rate was required to be at least {ratio} of "
        "the best group's, and it is. It costs {cost} in total score ({cost_pct}) and {fill} "
        "filled openings against the assignment without it.",
        "fair_none": "NO assignment meets the minimum impact ratio of {ratio} for '{attr}' "
        "together with the locked pairs. This assignment was solved without it; review it "
        "before signing off.",
        "training": "Top training gaps",
        "skill": "Skill",
        "missing": "People lacking it",
        "share": "Share",
        "how": "How this was decided",
        "how_body": "<li>Every person–vacancy pair was scored by the matching engine (ESCO "
        "skills, experience, location, certificates); pairs failing a hard requirement "
        "(certificate, language, location) are never used.</li>"
        "<li>Only pairs scoring at least {min_score} were considered.</li>"
        "<li>The assignment chosen maximises the total score: each person at most once, each "
        "vacancy at most its openings. It was solved exactly ({solver}); not a heuristic.</li>"
        "<li>Pairs locked in by a person: {locked}; excluded: {excluded}; households moving "
        "together: {households}.</li>"
        "<li>Gender and age never enter the score: they are used only for the fairness audit "
        "{fair_use}.</li>"
        "<li>Pairs the optimiser weighed: {pairs_solved} of {pairs_allowed} allowed "
        "({exact}).</li>"
        "<li>This selection is a proposal: the final decision is the signer's.</li>",
        "fair_use_on": "and for the fairness constraint requested",
        "fair_use_off": "",
        "exact_yes": "the reduction loses no optimal solution",
        "exact_no": "shortlist per vacancy cut short: an approximation",
        "none": "—",
    },
}

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:60rem;
color:#1b1b1b;padding:0 1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}th{background:#f3f3f3}
td.n{text-align:right}.warn{background:#fde8e8;border-left:4px solid #c00;padding:.5rem}
.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.5rem}.note{color:#555;
font-size:.85rem}
"""


def _num(value: float, lang: str, digits: int = 2) -> str:
    text = f"{value:,.{digits}f}"
    if lang == "es":
        text = text.replace(",", "\u2009").replace(".", ",")
    return text


def _pct(value: float, lang: str) -> str:
    return _num(100 * value, lang, 1) + " %"


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(str(v))}</td>' if k in numeric else f"<td>{escape(str(v))}</td>"
            for k, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _histogram_svg(eligible: list[int], assigned: list[int], title: str) -> str:
    width, height, pad = 600, 200, 30
    n = len(eligible)
    tops = (max([*eligible, 1]), max([*assigned, 1]))
    bar = (width - 2 * pad) / max(n, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    for k, (a, b) in enumerate(zip(eligible, assigned)):
        x = pad + k * bar
        for value, colour, shrink, top in (
            (a, "#bbb", 0.0, tops[0]),
            (b, "#2e7d32", 0.25, tops[1]),
        ):
            h = (height - 2 * pad) * value / top
            parts.append(
                f'<rect x="{x + bar * shrink:.1f}" y="{height - pad - h:.1f}" '
                f'width="{bar * (1 - 2 * shrink) - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{k / n:.2f}–{(k + 1) / n:.2f}: {value}</title></rect>"
            )
    for tick in (0, 0.5, 1):
        x = pad + tick * (width - 2 * pad)
        parts.append(
            f'<text x="{x:.0f}" y="{height - 10}" font-size="11" text-anchor="middle">{tick}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _fill_svg(rows: list[tuple[str, int, int]]) -> str:
    line, label_w, width = 18, 90, 600
    height = line * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
    ]
    most = max([o for _, o, _ in rows] + [1])
    scale = (width - label_w - 60) / most
    for k, (vid, openings, filled) in enumerate(rows):
        y = 5 + k * line
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(vid)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{openings * scale:.1f}" height="{line - 4}" '
            f'fill="#e0e0e0"/>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{filled * scale:.1f}" height="{line - 4}" '
            f'fill="#1565c0"/>'
        )
        parts.append(
            f'<text x="{label_w + openings * scale + 5:.1f}" y="{y + 12}" font-size="11">'
            f"{filled}/{openings}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render_report(result: Any, *, lang: str = "es", top_gaps: int = 15) -> str:
    """The cohort report of a :class:`~matcher.cohort.CohortResult` as one HTML page."""
    if lang not in TEXT:
        raise ValueError(f"lang: expected 'es' or 'en', got {lang!r}")
    t = TEXT[lang]
    s = result.summary
    yes_no = {True: t["yes"], False: t["no"]}
    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(t['title'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(t['title'])}</h1>",
        f"<h2>{escape(t['summary'])}</h2>",
    ]
    fair_on = bool(s["fairness_attribute"] and s["min_impact_ratio"])
    best_total = s["unconstrained_total"] if fair_on else s["total_score"]
    best_filled = s["unconstrained_filled"] if fair_on else s["filled"]
    columns = [(t["optimal_fair"] if fair_on else t["optimal"], s["filled"], s["total_score"])]
    if fair_on:
        columns.append((t["optimal"], best_filled, best_total))
    columns.append((t["greedy"], s["greedy_filled"], s["greedy_total"]))
    out.append(
        _table(
            ["", *[c[0] for c in columns]],
            [
                [t["candidates"], *[s["candidates"]] * len(columns)],
                [t["vacancies"], *[s["vacancies"]] * len(columns)],
                [t["openings"], *[s["openings"]] * len(columns)],
                [t["filled"], *[c[1] for c in columns]],
                [t["total_score"], *[_num(c[2], lang) for c in columns]],
                [t["mean_score"], *[_num(c[2] / c[1] if c[1] else 0.0, lang) for c in columns]],
            ],
            numeric=set(range(1, len(columns) + 1)),
        )
    )
    d_score = best_total - s["greedy_total"]
    out.append(
        "<p>"
        + escape(
            t["gain"].format(
                d_score=_num(d_score, lang),
                d_pct=_pct(d_score / s["greedy_total"], lang) if s["greedy_total"] else "—",
                d_fill=best_filled - s["greedy_filled"],
                dup=s["double_booked"],
            )
        )
        + "</p>"
    )
    out.append(f"<h2>{escape(t['scores'])}</h2>")
    out.append(
        _histogram_svg(result.histograms["eligible"], result.histograms["assigned"], t["scores"])
    )
    out.append(f'<p class="note">{escape(t["scores_note"])}</p>')

    out.append(f"<h2>{escape(t['fill'])}</h2>")
    fill = result.vacancies
    out.append(_fill_svg(list(zip(fill["vacancy_id"], fill["openings"], fill["filled"]))))
    out.append(
        _table(
            [t["vacancy"], t["title_col"], t["openings"], t["filled"], t["pool"], t["mean_score"]],
            [
                [r.vacancy_id, r.title, r.openings, r.filled, r.pool, _num(r.mean_score, lang)]
                for r in fill.itertuples()
            ],
            numeric={2, 3, 4, 5},
        )
    )

    out.append(f"<h2>{escape(t['fairness'])}</h2>")
    if s["fairness_attribute"] and s["min_impact_ratio"]:
        fmt = {
            "attr": s["fairness_attribute"],
            "ratio": _num(s["min_impact_ratio"], lang),
        }
        if s["fairness_feasible"]:
            cost = (s["unconstrained_total"] or 0.0) - s["total_score"]
            base = s["unconstrained_total"] or 0.0
            fmt |= {
                "cost": _num(cost, lang),
                "cost_pct": _pct(cost / base, lang) if base else "—",
                "fill": (s["unconstrained_filled"] or 0) - s["filled"],
            }
            out.append(f'<p class="ok">{escape(t["fair_ok"].format(**fmt))}</p>')
        else:
            out.append(f'<p class="warn">{escape(t["fair_none"].format(**fmt))}</p>')
    fair = result.fairness
    out.append(
        _table(
            [
                t["attribute"],
                t["group"],
                t["candidates"],
                t["selected"],
                t["rate"],
                t["ratio"],
                t["passes"],
                t["p_value"],
            ],
            [
                [
                    r.attribute,
                    r.group,
                    r.candidates,
                    r.selected,
                    _pct(r.selection_rate, lang),
                    _num(r.impact_ratio, lang),
                    yes_no[bool(r.passes)],
                    _num(r.fisher_p_value, lang, 3),
                ]
                for r in fair.itertuples()
            ],
            numeric={2, 3, 4, 5, 7},
        )
    )
    out.append(f'<p class="note">{escape(t["fair_note"])}</p>')

    out.append(f"<h2>{escape(t['training'])}</h2>")
    plan = result.training_plan
    if len(plan):
        totals = (
            plan.groupby(["skill_uri", f"skill_{lang}"], sort=False)["candidates_missing"]
            .sum()
            .sort_values(ascending=False, kind="stable")
            .head(top_gaps)
        )
        out.append(
            _table(
                [t["skill"], t["missing"]],
                [[label, int(count)] for (_, label), count in totals.items()],
                numeric={1},
            )
        )
    else:
        out.append(f"<p>{t['none']}</p>")

    out.append(f"<h2>{escape(t['how'])}</h2>")
    out.append(
        "<ol>"
        + t["how_body"].format(
            min_score=escape(_num(s["min_score"], lang)),
            solver=escape(
                "min-cost bipartite matching, SciPy"
                if s["solver"] == "matching"
                else "mixed-integer programme, HiGHS via SciPy"
            ),
            locked=s["locked"],
            excluded=s["excluded"],
            households=s["households"],
            fair_use=t["fair_use_on"] if s["min_impact_ratio"] else t["fair_use_off"],
            pairs_solved=s["pairs_solved"],
            pairs_allowed=s["pairs_allowed"],
            exact=t["exact_yes"] if s["exact_reduction"] else t["exact_no"],
        )
        + "</ol>"
    )
    out.append("</body></html>")
    return "\n".join(out)
