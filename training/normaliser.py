"""Learn the normaliser's re-rank weights from the taxonomy itself.

Self-supervised: a share of the alternative labels is held out of an index,
the held-out forms (clean, and with a typo and no accents) are normalised, and
a logistic regression learns which candidate features pick the right concept.
No person's data is involved. ``python -m training.normaliser`` prints the
weights to paste into :class:`matcher.config.NormaliseConfig`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from matcher.config import NormaliseConfig
from matcher.normalise import RERANK_FEATURES, SkillNormaliser
from matcher.taxonomy import SkillTaxonomy
from training.heldout import (
    hold_out_alt_labels,
    hold_out_concepts,
    realistic_variant,
    typo_variant,
)


def rerank_training_set(
    taxonomy: SkillTaxonomy, *, random_state: int = 101, share: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Features and 0/1 labels of every candidate concept of every held-out query."""
    xs, ys = [], []
    splits = [
        hold_out_alt_labels(taxonomy, kind=kind, share=share, random_state=random_state)
        for kind in ("skill", "occupation")
    ]
    # Mentions of concepts the index lacks: every candidate is wrong, so the re-rank learns
    # that a lone weak candidate is not a match.
    splits += [
        hold_out_concepts(taxonomy, kind=kind, share=0.05, random_state=random_state)
        for kind in ("skill", "occupation")
    ]
    for held in splits:
        kind = str(held.queries["kind"].iloc[0])
        norm = SkillNormaliser(held.taxonomy)
        index = norm._index(kind)
        queries = held.queries
        variants = (
            queries["text"],
            typo_variant(queries["text"], random_state=random_state),
            realistic_variant(queries["text"], queries["lang"], random_state=random_state),
        )
        for texts in variants:
            prepared = [index.prepare(t, "auto") for t in texts]
            for cand, gold in zip(index.candidates(prepared), queries["gold"]):
                if len(cand.concepts) == 0:
                    continue
                xs.append(cand.features)
                ys.append(np.isin(cand.concepts, list(gold)).astype(int))
    return np.concatenate(xs), np.concatenate(ys)


def fit_rerank(
    taxonomy: SkillTaxonomy, *, random_state: int = 101, config: NormaliseConfig | None = None
) -> NormaliseConfig:
    """A config whose re-rank weights are learnt on ``taxonomy``'s own labels."""
    x, y = rerank_training_set(taxonomy, random_state=random_state)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    base = config or NormaliseConfig()
    return dataclasses.replace(
        base,
        rerank_coef=tuple(round(float(c), 4) for c in model.coef_[0]),
        rerank_intercept=round(float(model.intercept_[0]), 4),
    )


def write_config(cfg: NormaliseConfig, path: Path) -> None:
    """Replace the learnt block of ``matcher/config.py`` with ``cfg``'s weights."""
    text = path.read_text("utf-8")
    coef = ", ".join(repr(c) for c in cfg.rerank_coef)
    block = (
        "    # BEGIN learnt re-rank (written by `python -m training.normaliser --write`)\n"
        f"    rerank_coef: tuple[float, ...] = ({coef})  # noqa: E501\n"
        f"    rerank_intercept: float = {cfg.rerank_intercept!r}\n"
        "    # END learnt re-rank\n"
    )
    new, n = re.subn(
        r"    # BEGIN learnt re-rank.*?# END learnt re-rank\n", block, text, flags=re.S
    )
    if n != 1:
        raise SystemExit(f"{path}: learnt re-rank block not found")
    path.write_text(new, "utf-8")


def main(argv: list[str] | None = None) -> int:
    from matcher.io import load_taxonomy

    args = sys.argv[1:] if argv is None else argv
    cfg = fit_rerank(load_taxonomy())
    print(pd.Series(cfg.rerank_coef, index=RERANK_FEATURES).to_string())
    print(f"intercept {cfg.rerank_intercept}")
    if "--write" in args:
        import matcher.config

        write_config(cfg, Path(matcher.config.__file__))
        print(f"written to {matcher.config.__file__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
