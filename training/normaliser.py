"""Learn the normaliser's re-rank weights from the taxonomy itself.

Self-supervised: a share of the alternative labels is held out of an index,
the held-out forms (clean, with a typo and no accents, and as a CV writes them)
are normalised, and a logistic regression (or, on request, a small neural
network with one layer of ReLU units) learns which candidate features pick the
right concept.
No person's data is involved. ``python -m training.normaliser --write`` writes
the weights into :class:`matcher.config.NormaliseConfig`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, 0/1 labels and query language of every candidate concept of every
    held-out query."""
    xs, ys, langs = [], [], []
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
            for cand, gold, lang in zip(
                index.candidates(prepared), queries["gold"], queries["lang"]
            ):
                if len(cand.concepts) == 0:
                    continue
                xs.append(cand.features)
                ys.append(np.isin(cand.concepts, list(gold)).astype(int))
                langs.append(np.full(len(cand.concepts), lang))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(langs)


#: Hidden units of the re-rank network (0: a logistic regression), and the network's L2
#: penalty. 32 units gain about half a point on held-out English forms but lose 5-10 points
#: on the occupation titles of employment services, forms unlike the labels it is trained
#: on; the logistic regression is the default because real mentions are such forms.
HIDDEN_UNITS = 0
ALPHA = 1e-3


def fit_rerank(
    taxonomy: SkillTaxonomy,
    *,
    random_state: int = 101,
    config: NormaliseConfig | None = None,
    hidden_units: int = HIDDEN_UNITS,
) -> NormaliseConfig:
    """A config whose re-rank is learnt on ``taxonomy``'s own labels.

    ``hidden_units=0`` learns a logistic regression instead of the network.
    """
    x, y, lang = rerank_training_set(taxonomy, random_state=random_state)
    # ESCO has about four English labels for each Spanish one; weighing each language's
    # candidates equally keeps the re-rank from being tuned to English wording alone
    # (Spanish forms are what the service mostly reads).
    counts = {lg: int((lang == lg).sum()) for lg in np.unique(lang)}
    weight = np.array([len(lang) / (len(counts) * counts[lg]) for lg in lang])
    base = config or NormaliseConfig()
    if hidden_units == 0:
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y, sample_weight=weight)
        return dataclasses.replace(
            base,
            rerank_coef=tuple(round(float(c), 4) for c in model.coef_[0]),
            rerank_intercept=round(float(model.intercept_[0]), 4),
            rerank_hidden_coef=(),
            rerank_hidden_intercept=(),
            rerank_hidden_out=(),
        )
    # Standardised inputs train better; the scaling is folded into the first layer after.
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    net = MLPClassifier(
        hidden_layer_sizes=(hidden_units,),
        alpha=ALPHA,
        max_iter=300,
        early_stopping=True,
        random_state=random_state,
    ).fit((x - mean) / scale, y, sample_weight=weight)
    w1, w2 = net.coefs_
    b1, b2 = net.intercepts_
    w1 = w1 / scale[:, None]
    b1 = b1 - mean @ w1
    return dataclasses.replace(
        base,
        rerank_coef=(0.0,) * x.shape[1],
        rerank_intercept=round(float(b2[0]), 6),
        rerank_hidden_coef=tuple(tuple(round(float(v), 6) for v in unit) for unit in w1.T),
        rerank_hidden_intercept=tuple(round(float(v), 6) for v in b1),
        rerank_hidden_out=tuple(round(float(v), 6) for v in w2[:, 0]),
    )


def write_config(cfg: NormaliseConfig, path: Path) -> None:
    """Replace the learnt block of ``matcher/config.py`` with ``cfg``'s weights."""
    text = path.read_text("utf-8")

    def numbers(values: tuple[float, ...], indent: int) -> str:
        """A tuple literal wrapped to the line length, one level deeper than ``indent``."""
        if not values:
            return "()"
        body = textwrap.fill(
            ", ".join(repr(v) for v in values) + ",",
            width=99,
            initial_indent=" " * (indent + 4),
            subsequent_indent=" " * (indent + 4),
            break_on_hyphens=False,
        )
        return "(\n" + body + "\n" + " " * indent + ")"

    units = "".join(" " * 8 + numbers(unit, 8) + ",\n" for unit in cfg.rerank_hidden_coef)
    block = (
        "    # BEGIN learnt re-rank (written by `python -m training.normaliser --write`)\n"
        "    # fmt: off\n"
        f"    rerank_coef: tuple[float, ...] = {numbers(cfg.rerank_coef, 4)}\n"
        f"    rerank_intercept: float = {cfg.rerank_intercept!r}\n"
        f"    rerank_hidden_coef: tuple[tuple[float, ...], ...] = (\n{units}    )\n"
        "    rerank_hidden_intercept: tuple[float, ...] = "
        f"{numbers(cfg.rerank_hidden_intercept, 4)}\n"
        f"    rerank_hidden_out: tuple[float, ...] = {numbers(cfg.rerank_hidden_out, 4)}\n"
        "    # fmt: on\n"
        "    # END learnt re-rank\n"
    )
    new, n = re.subn(
        r"    # BEGIN learnt re-rank.*?# END learnt re-rank\n", lambda _: block, text, flags=re.S
    )
    if n != 1:
        raise SystemExit(f"{path}: learnt re-rank block not found")
    path.write_text(new, "utf-8")


def main(argv: list[str] | None = None) -> int:
    from matcher.io import load_taxonomy

    args = sys.argv[1:] if argv is None else argv
    cfg = fit_rerank(load_taxonomy())
    if cfg.rerank_hidden_coef:
        # How much each feature moves the hidden units, a rough view of what the net uses.
        weight = np.abs(np.asarray(cfg.rerank_hidden_coef)).T @ np.abs(cfg.rerank_hidden_out)
        print(pd.Series(weight, index=RERANK_FEATURES).round(3).to_string())
        print(f"{len(cfg.rerank_hidden_coef)} hidden units")
    else:
        print(pd.Series(cfg.rerank_coef, index=RERANK_FEATURES).to_string())
        print(f"intercept {cfg.rerank_intercept}")
    if "--write" in args:
        import matcher.config

        write_config(cfg, Path(matcher.config.__file__))
        print(f"written to {matcher.config.__file__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
