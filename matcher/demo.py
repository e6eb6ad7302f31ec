"""``make demo``: the main job on the shipped synthetic demo data.

1. Normalises a list of skills as returnees write them and prints the table.
2. Runs the batch shortlist (the same code as ``reintegra shortlist``) for the
   synthetic cohort of 300 returnees against 25 vacancies, writes it to
   ``out/demo_shortlist.csv`` and prints the top 5 of two vacancies with their
   explanations.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pandas as pd

from matcher.cli import main as cli_main
from matcher.io import default_fixtures_dir, load_taxonomy
from matcher.normalise import SkillNormaliser

SHOWN_VACANCIES = ("V001", "V022")


def main() -> int:
    demo = default_fixtures_dir() / "demo"
    mentions = (demo / "skills_demo.txt").read_text("utf-8").splitlines()
    normaliser = SkillNormaliser(load_taxonomy())
    table = normaliser.normalise([m for m in mentions if m.strip()], top_k=1)
    shown = table[["mention", "label_es", "score", "method"]]
    print("== 1. Competencias normalizadas a ESCO (datos sintéticos) ==\n")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(shown.to_string(index=False))

    out = Path("out") / "demo_shortlist.csv"
    code = cli_main(
        [
            "shortlist",
            "--candidates", str(demo / "candidates.jsonl"),
            "--vacancies", str(demo / "vacancies.jsonl"),
            "--top-k", "5",
            "--out", str(out),
            "--quiet",
        ]
    )  # fmt: skip
    if code != 0:
        return code
    shortlist = pd.read_csv(out)
    vacancies = pd.read_json(demo / "vacancies.jsonl", lines=True).set_index("id")
    print(f"\n== 2. Preselección: 300 retornados x {len(vacancies)} vacantes -> {out} ==")
    for vid in SHOWN_VACANCIES:
        vac = vacancies.loc[vid]
        print(f"\n{vid} · {vac['title']} · {vac['region']} · {vac['openings']} puestos")
        for row in shortlist[shortlist["vacancy_id"] == vid].itertuples():
            print(f"  {row.rank}. {row.candidate_id}  puntaje {row.score:.2f}")
            print(
                textwrap.fill(
                    row.explanation, width=100, initial_indent="     ", subsequent_indent="     "
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
