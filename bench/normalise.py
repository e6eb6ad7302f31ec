"""Skill normalisation: throughput (fresh and cached) and accuracy, engine beside a baseline.

The baseline is what a user could write in one line,
``rapidfuzz.process.extractOne(mention, labels, scorer=fuzz.WRatio,
processor=rapidfuzz.utils.default_process)`` over the same skill labels, timed
on a sample in the same run and extrapolated.
"""

from __future__ import annotations

import random

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from bench.mentions import realistic_mentions
from bench.report import Report, section, timed
from matcher.io import load_taxonomy
from matcher.normalise import SkillNormaliser
from matcher.taxonomy import SkillTaxonomy
from training.heldout import hold_out_alt_labels, typo_variant
from training.normaliser import fit_rerank

N_FRESH = 10_000
N_STREAM = 100_000
N_STREAM_DISTINCT = 2_000
STREAM_BATCH = 1_000
N_BASELINE_TIMED = 300
N_ACCURACY_FORMS = 500  # held-out forms, each clean and with a typo: 1,000 queries


def skill_labels(taxonomy: SkillTaxonomy) -> tuple[list[str], np.ndarray]:
    """Every skill label (ESCO and synonym layer) and its concept."""
    labels = taxonomy.labels
    kinds = taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()]
    labels = labels[kinds == "skill"]
    return labels["text"].tolist(), labels["concept"].to_numpy()


def extract_one_top1(mentions: list[str], labels: list[str], concepts: np.ndarray) -> np.ndarray:
    """The baseline's concept for each mention (the first best label, as ``extractOne``)."""
    out = np.full(len(mentions), -1)
    for start in range(0, len(mentions), 200):
        block = mentions[start : start + 200]
        scores = process.cdist(
            block, labels, scorer=fuzz.WRatio, processor=default_process, workers=-1
        )
        out[start : start + len(block)] = concepts[scores.argmax(axis=1)]
    return out


@section("normalise")
def normalise(report: Report) -> None:
    seconds, taxonomy = timed(load_taxonomy)
    labels, _ = skill_labels(taxonomy)
    n_skills = int((taxonomy.concepts["kind"] == "skill").sum())
    report.add(
        "load taxonomy",
        seconds,
        "s",
        f"{len(taxonomy.concepts):,} concepts, {len(taxonomy.labels):,} labels",
    )

    norm = SkillNormaliser(taxonomy)
    seconds, index = timed(lambda: norm._index("skill"))
    rows = len(index.content)  # type: ignore[attr-defined]
    report.add(
        "index build (skill)",
        seconds,
        "s",
        f"{len(labels):,} skill labels + {rows - len(labels):,} paraphrase rows, "
        f"{n_skills:,} concepts",
    )

    mentions = realistic_mentions(taxonomy, N_FRESH, seed=2024)
    seconds, _ = timed(lambda: norm.match(mentions, top_k=5))
    fresh = N_FRESH / seconds
    size = f"{N_FRESH:,} distinct mentions x {len(labels):,} labels, one batch, top 5"
    report.add("fresh mentions", fresh, "mentions/s", size, f"{seconds:.2f} s")
    seconds, _ = timed(lambda: norm.match(mentions, top_k=5))
    report.add(
        "repeated mentions (cache)",
        N_FRESH / seconds,
        "mentions/s",
        f"the same {N_FRESH:,} again",
        f"{seconds:.3f} s",
    )

    # The engine's own path: features.encode_candidates asks for the best concept only, which
    # a label equal to the mention decides without retrieval. A second normaliser, so that
    # no cache of the first one helps.
    top1 = SkillNormaliser(taxonomy)
    top1._index("skill")
    others = realistic_mentions(taxonomy, N_FRESH, seed=2025)
    seconds, _ = timed(lambda: top1.match(others, top_k=1))
    report.add(
        "fresh mentions, top 1",
        N_FRESH / seconds,
        "mentions/s",
        f"{N_FRESH:,} other distinct mentions, new normaliser, one batch, top 1",
        f"{seconds:.2f} s",
    )

    # A stream with repeats, batch by batch, starting with an empty mention cache.
    norm._caches.clear()
    distinct = realistic_mentions(taxonomy, N_STREAM_DISTINCT, seed=7)
    rng = random.Random(7)
    stream = [distinct[rng.randrange(len(distinct))] for _ in range(N_STREAM)]

    def run_stream() -> None:
        for start in range(0, N_STREAM, STREAM_BATCH):
            norm.match(stream[start : start + STREAM_BATCH], top_k=5)

    seconds, _ = timed(run_stream)
    report.add(
        "stream with repeats",
        N_STREAM / seconds,
        "mentions/s",
        f"{N_STREAM:,} drawn from {N_STREAM_DISTINCT:,} distinct, batches of {STREAM_BATCH:,}",
        f"{seconds:.2f} s",
    )

    sample = mentions[:N_BASELINE_TIMED]

    def baseline() -> None:
        for m in sample:
            process.extractOne(m, labels, scorer=fuzz.WRatio, processor=default_process)

    seconds, _ = timed(baseline)
    base = len(sample) / seconds
    report.add(
        "baseline extractOne(WRatio)",
        base,
        "mentions/s",
        f"{len(sample)} of the same mentions x {len(labels):,} labels, extrapolated",
        f"{seconds:.2f} s",
    )
    report.add("engine / extractOne", fresh / base, "x", "fresh mentions/s over baseline's")

    # The baseline with the labels processed once (a stronger one-liner, for reference).
    processed = [default_process(t) for t in labels]

    def baseline_processed() -> None:
        for m in sample:
            process.extractOne(default_process(m), processed, scorer=fuzz.WRatio)

    seconds, _ = timed(baseline_processed)
    report.add(
        "baseline, labels pre-processed",
        len(sample) / seconds,
        "mentions/s",
        f"{len(sample)} mentions x {len(labels):,} labels, extrapolated",
        f"ratio engine/this {fresh / (len(sample) / seconds):.1f}x",
    )

    accuracy(report, taxonomy)


def accuracy(report: Report, taxonomy: SkillTaxonomy) -> None:
    """Top-1 accuracy on held-out forms, as ``evals.normaliser`` measures it, on a sample."""
    held = hold_out_alt_labels(taxonomy, kind="skill", share=0.2, random_state=0)
    seconds, config = timed(lambda: fit_rerank(held.taxonomy, random_state=7))
    report.add("re-rank fit for the held-out index", seconds, "s", "as evals.normaliser does")
    engine = SkillNormaliser(held.taxonomy, config)  # type: ignore[arg-type]
    queries = held.queries.sample(
        n=min(N_ACCURACY_FORMS, len(held.queries)), random_state=0
    ).reset_index(drop=True)
    texts = queries["text"].tolist() + typo_variant(queries["text"], random_state=0).tolist()
    gold = list(queries["gold"]) * 2
    found = engine.match(texts, kind="skill", lang="auto", top_k=1)
    pred = [m[0].concept if m else -1 for m in found]
    labels, concepts = skill_labels(held.taxonomy)
    base = extract_one_top1(texts, labels, concepts)
    size = (
        f"held-out forms ({len(queries)}, clean and with a typo), "
        f"index without them ({len(labels):,} labels)"
    )
    langs = list(queries["lang"]) * 2
    for lang in (None, "en", "es"):
        keep = [lang is None or lg == lang for lg in langs]
        n = sum(keep)
        where = f"{n:,} queries" + (f" in {lang}" if lang else "") + f"; {size}"
        for name, found_ in (("engine", pred), ("extractOne(WRatio)", base)):
            report.add(
                f"top-1 accuracy{' ' + lang if lang else ''}, {name}",
                _share(
                    [p for p, k in zip(found_, keep) if k], [g for g, k in zip(gold, keep) if k]
                ),
                "share",
                where,
            )


def _share(pred, gold) -> float:  # type: ignore[no-untyped-def]
    return float(sum(int(p) in g for p, g in zip(pred, gold)) / max(len(gold), 1))
