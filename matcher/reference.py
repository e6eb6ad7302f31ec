"""The reference path: the same features and scores, one pair at a time, in plain Python.

It exists to check the vectorised path (parity tests) and as the naive baseline
that benchmarks compare against. It reads the same encoded batches, so any
difference is in the arithmetic, not in normalisation.
"""

from __future__ import annotations

import numpy as np

from matcher.certifications import holds_certification
from matcher.config import FEATURES, MatchConfig
from matcher.features import (
    FILTER_CERTIFICATION,
    FILTER_LANGUAGE,
    FILTER_LOCATION,
    CandidateBatch,
    SkillSpace,
    VacancyBatch,
)
from matcher.regions import Regions

__all__ = ["ReferenceScorer"]


def _rows(matrix) -> list[dict[int, float]]:
    m = matrix.tocsr()
    return [
        dict(
            zip(
                m.indices[m.indptr[i] : m.indptr[i + 1]].tolist(),
                m.data[m.indptr[i] : m.indptr[i + 1]].tolist(),
            )
        )
        for i in range(m.shape[0])
    ]


class ReferenceScorer:
    """Per-pair features and scores; slow on purpose, simple to read."""

    def __init__(self, space: SkillSpace, regions: Regions, config: MatchConfig, scorer) -> None:
        self.regions = regions
        self.config = config
        self.scorer = scorer
        self.related_in = _rows(space.related.T)  # concept -> {relative: credit}
        self.occ_sim_in = _rows(space.occupation_similarity.T)

    def prepare(self, cands: CandidateBatch, vacs: VacancyBatch) -> tuple[list, list]:
        """Plain per-record dicts (done once; the per-pair loop is what is measured)."""
        skills, years = _rows(cands.skills), _rows(cands.years)
        titles = []
        for mentions in cands.title_mentions:
            direct: dict[int, float] = {}
            for m in mentions:
                if m.concept >= 0:
                    direct[m.concept] = max(direct.get(m.concept, 0.0), m.score)
            titles.append(direct)
        cand = [
            {
                "skills": skills[i],
                "years": years[i],
                "titles": titles[i],
                "experience": float(cands.experience[i]),
                "region": int(cands.region[i]),
                "relocate": bool(cands.relocate[i]),
                "languages": cands.languages[i],
                "certs": cands.certifications[i],
            }
            for i in range(len(cands))
        ]
        req, opt, prof = _rows(vacs.required), _rows(vacs.optional), _rows(vacs.profile)
        min_years: dict[tuple[int, int], float] = {(j, k): y for j, k, y in vacs.required_years}
        vac = [
            {
                "required": req[j],
                "optional": opt[j],
                "profile": prof[j],
                "min_years": {k: y for (jj, k), y in min_years.items() if jj == j},
                "occupation": int(vacs.occupation[j]),
                "occ_conf": float(vacs.occupation_confidence[j]),
                "min_exp": float(vacs.min_experience[j]),
                "region": int(vacs.region[j]),
                "remote": bool(vacs.remote[j]),
                "languages": vacs.languages[j],
                "certs": vacs.certifications[j],
            }
            for j in range(len(vacs))
        ]
        return cand, vac

    def credit(self, c: dict, concept: int) -> float:
        best = c["skills"].get(concept, 0.0)
        for relative, value in self.related_in[concept].items():
            held = c["skills"].get(relative)
            if held is not None:
                best = max(best, held * value)
        return min(1.0, best)

    def features(self, c: dict, v: dict) -> tuple[list[float], int]:
        """The feature vector (FEATURES order) and the filter mask of one pair."""
        req = 0.0
        for k, w in v["required"].items():
            credit = self.credit(c, k) * w
            need = v["min_years"].get(k)
            if need:
                held = c["years"].get(k, 0.0) or c["experience"]
                credit -= credit * (1.0 - min(1.0, held / need))
            req += credit
        n_req = sum(v["required"].values())
        opt = sum(self.credit(c, k) * w for k, w in v["optional"].items())
        n_opt = sum(v["optional"].values())
        prof = sum(self.credit(c, k) * w for k, w in v["profile"].items())
        n_prof = sum(v["profile"].values())
        title = 0.0
        occ = v["occupation"]
        if occ >= 0:
            # A past title credits the vacancy's occupation and, less, its ISCO neighbours.
            spread = sum(c["titles"].get(o, 0.0) * s for o, s in self.occ_sim_in[occ].items())
            title = min(1.0, max(c["titles"].get(occ, 0.0), spread)) * v["occ_conf"]
        exp = 1.0 if v["min_exp"] <= 0 else min(1.0, max(0.0, c["experience"] / v["min_exp"]))
        loc, blocked = self.location(c, v)
        mask = FILTER_LOCATION if blocked else 0
        if any(lang not in c["languages"] for lang in v["languages"]):
            mask |= FILTER_LANGUAGE
        if any(not holds_certification(key, c["certs"]) for key in v["certs"]):
            mask |= FILTER_CERTIFICATION

        def ratio(a: float, b: float) -> float:
            return min(1.0, max(0.0, a / b)) if b > 0 else 0.0

        values = {
            "required_coverage": ratio(req, n_req),
            "optional_coverage": ratio(opt, n_opt),
            "profile_coverage": ratio(prof, n_prof),
            "title_fit": title,
            "experience_fit": exp,
            "location_fit": loc,
            "has_skills": 1.0 if c["skills"] else 0.0,
            "has_required": 1.0 if n_req > 0 else 0.0,
            "has_optional": 1.0 if n_opt > 0 else 0.0,
            "has_occupation": 1.0 if v["occupation"] >= 0 else 0.0,
        }
        return [values[name] for name in FEATURES], mask

    def location(self, c: dict, v: dict) -> tuple[float, bool]:
        rc, rv = c["region"], v["region"]
        known = rc != -1 and rv != -1
        if v["remote"] or (known and rc == rv):
            return 1.0, False
        if not known:
            return 0.75, False
        if not c["relocate"]:
            return 0.0, True
        if rc >= 0 and rv >= 0:
            d = float(self.regions.distance_km[rc, rv])
            return 1.0 - 0.5 * min(1.0, d / self.config.relocation_km), False
        return 0.75, False

    def score(self, x: list[float]) -> float:
        """The scorer's formula on one feature vector, in scalar arithmetic."""
        f = dict(zip(FEATURES, x))
        w_req, w_opt, w_prof, w_title, w_exp, w_loc = (float(v) for v in self.scorer.weights_)
        a_req, a_opt = w_req * f["has_required"], w_opt * f["has_optional"]
        a_prof, a_title = w_prof * f["has_occupation"], w_title * f["has_occupation"]
        explicit_total, implicit_total = a_req + a_opt, a_prof + a_title
        explicit = (
            (a_req * f["required_coverage"] + a_opt * f["optional_coverage"]) / explicit_total
            if explicit_total > 0
            else 0.0
        )
        implicit = (
            (a_prof * f["profile_coverage"] + a_title * f["title_fit"]) / implicit_total
            if implicit_total > 0
            else 0.0
        )
        if implicit_total <= 0:
            beta = 0.0
        elif explicit_total <= 0:
            beta = 1.0
        else:
            beta = float(self.scorer.implicit_share)
        match = (explicit * (1.0 - beta * implicit) + beta * implicit) * f["has_skills"]
        w_ctx = w_exp + w_loc
        context = (
            (w_exp * f["experience_fit"] + w_loc * f["location_fit"]) / w_ctx if w_ctx else 1.0
        )
        share = float(self.scorer.context_share)
        return min(1.0, max(0.0, match * (1.0 - share + share * context)))

    def score_pairs(self, cand: list, vac: list, pairs) -> tuple[np.ndarray, np.ndarray]:
        """Scores and filter masks of ``pairs`` ((i, j) index pairs), one at a time."""
        scores, masks = [], []
        for i, j in pairs:
            x, mask = self.features(cand[i], vac[j])
            scores.append(self.score(x))
            masks.append(mask)
        return np.array(scores), np.array(masks)
