"""Skill extraction quality (MRR) on labelled job-ad lines: ``python -m evals.extraction``."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.extract import extract_skills
from matcher.io import default_fixtures_dir, load_taxonomy
from matcher.normalise import SkillNormaliser
from matcher.taxonomy import SkillTaxonomy

TARGET_MRR = 0.60


def load_sentences(lang: str) -> pd.DataFrame:
    path = default_fixtures_dir() / "eval" / f"job_ad_sentences_{lang}.jsonl"
    return pd.DataFrame([json.loads(line) for line in path.read_text("utf-8").splitlines() if line])


def reciprocal_rank(ranked: list[int], gold: set[int]) -> float:
    for i, c in enumerate(ranked, 1):
        if c in gold:
            return 1.0 / i
    return 0.0


class WordTfidfBaseline:
    """Word TF-IDF of the sentence against every skill label; a concept takes its best label."""

    def __init__(self, taxonomy: SkillTaxonomy) -> None:
        labels = taxonomy.labels
        skill = taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()] == "skill"
        labels = labels[skill]
        self.concept = labels["concept"].to_numpy()
        self.vec = TfidfVectorizer(strip_accents="unicode", lowercase=True)
        self.matrix = self.vec.fit_transform(labels["text"])

    def rank(self, text: str, top_k: int = 10) -> list[int]:
        sims = (self.vec.transform([text]) @ self.matrix.T).toarray()[0]
        order = np.argsort(-sims, kind="stable")
        out: list[int] = []
        for i in order:
            if sims[i] <= 0 or len(out) >= top_k:
                break
            c = int(self.concept[i])
            if c not in out:
                out.append(c)
        return out


def evaluate() -> pd.DataFrame:
    tax = load_taxonomy()
    norm = SkillNormaliser(tax)
    base = WordTfidfBaseline(tax)
    norm.match([""], kind="skill")  # builds the skill index, so texts_per_s times extraction only
    rows = []
    for lang in ("en", "es"):
        data = load_sentences(lang)
        gold = [{tax.position(u) for u in skills} for skills in data["skills"]]
        started = time.perf_counter()
        found = extract_skills(list(data["text"]), norm, lang="auto", top_k=10)
        seconds = time.perf_counter() - started
        engine = [reciprocal_rank([e.concept for e in f], g) for f, g in zip(found, gold)]
        baseline = [reciprocal_rank(base.rank(t), g) for t, g in zip(data["text"], gold)]
        rows.append(
            {
                "set": f"job-ad lines {lang}",
                "n": len(data),
                "engine_mrr": float(np.mean(engine)),
                "baseline_mrr": float(np.mean(baseline)),
                "target": TARGET_MRR,
                "texts_per_s": len(data) / seconds if seconds > 0 else float("nan"),
            }
        )
    out = pd.DataFrame(rows)
    out["pass"] = (out["engine_mrr"] >= out["target"]) & (out["engine_mrr"] > out["baseline_mrr"])
    return out


def main() -> int:
    table = evaluate()
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    return 0 if table["pass"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
