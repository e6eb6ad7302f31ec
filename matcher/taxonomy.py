"""The ESCO skills-and-occupations taxonomy the engine works on.

A :class:`SkillTaxonomy` is built from in-memory tables (see ``matcher.io`` for
reading the shipped CSV files). Concepts are numbered once; every matrix in the
engine (occupation profiles, candidate and vacancy skill vectors) uses those
positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from matcher.exceptions import TaxonomyError

__all__ = ["LABEL_SOURCES", "SkillTaxonomy"]

# Where a surface form comes from; also the order of preference on ties.
LABEL_SOURCES = ("preferred", "alt", "synonym")

ESSENTIAL = 2.0
OPTIONAL = 1.0


def _text(cell: object) -> str:
    """A free-text cell as a string ("" for a missing one)."""
    return cell.strip() if isinstance(cell, str) else ""


def _split(cell: object) -> list[str]:
    if not isinstance(cell, str) or not cell.strip():
        return []
    return [part.strip() for part in cell.split("|") if part.strip()]


@dataclass(frozen=True, eq=False)
class SkillTaxonomy:
    """ESCO concepts (skills and occupations) with their labels and relations.

    Attributes
    ----------
    concepts : DataFrame
        One row per concept, position = concept id. Columns: ``uri``, ``kind``
        (``"skill"`` or ``"occupation"``), ``label_en``, ``label_es``,
        ``skill_type``, ``isco_group`` (4-digit code for occupations, "" for
        skills), ``sectors`` (``|``-joined), ``is_transversal``, ``description_en``
        and ``description_es`` (ESCO's definition of the concept, "" where it has none;
        not a surface form: the normaliser reads its words as weak evidence only).
    labels : DataFrame
        One row per surface form: ``concept`` (position), ``text``, ``lang``
        (``"es"``/``"en"``), ``source`` (``preferred``, ``alt``, ``synonym``).
    relations : scipy.sparse.csr_matrix
        ``n_concepts x n_concepts``; row an occupation, column a skill, value 2
        for essential and 1 for optional.
    isco_groups : DataFrame
        ``code``, ``label_en``, ``label_es`` of the ISCO-08 groups used.
    version : str
        Identifies the data, recorded with every result that used it.
    real_words : frozenset of str
        Folded words of everyday Spanish and English (from a word-frequency list, see
        :func:`matcher.io.load_real_words`): a mention word found here is spelt right
        even if no label uses it ("camioneta" is not a misspelt "camiones"). Empty:
        only the labels' and descriptions' words count as known.
    """

    concepts: pd.DataFrame
    labels: pd.DataFrame
    relations: sparse.csr_matrix
    isco_groups: pd.DataFrame
    version: str = "unversioned"
    word_groups: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["lang", "words"]), repr=False
    )
    real_words: frozenset[str] = field(default_factory=frozenset, repr=False)
    _uri_index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        index = {uri: i for i, uri in enumerate(self.concepts["uri"])}
        if len(index) != len(self.concepts):
            raise TaxonomyError("taxonomy: concept URIs are not unique")
        object.__setattr__(self, "_uri_index", index)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frames(
        cls,
        *,
        skills: pd.DataFrame,
        occupations: pd.DataFrame,
        relations: pd.DataFrame,
        isco_groups: pd.DataFrame | None = None,
        synonyms: pd.DataFrame | None = None,
        word_groups: pd.DataFrame | None = None,
        version: str = "unversioned",
        real_words: frozenset[str] = frozenset(),
    ) -> SkillTaxonomy:
        """Build a taxonomy from tables shaped like the ESCO CSV export.

        ``synonyms`` (columns ``term``, ``lang``, ``kind``, ``uri``) adds surface
        forms that ESCO lacks, such as Peruvian usage; every URI must exist.
        """
        for name, frame, required in (
            ("skills", skills, ("conceptUri", "preferredLabel_en")),
            ("occupations", occupations, ("conceptUri", "preferredLabel_en", "iscoGroup")),
            ("relations", relations, ("occupationUri", "skillUri", "relationType")),
        ):
            missing = [c for c in required if c not in frame.columns]
            if missing:
                raise TaxonomyError(f"taxonomy: table '{name}' lacks column(s) {missing}")

        rows: list[dict[str, object]] = []
        label_rows: list[tuple[int, str, str, str]] = []

        def add_labels(pos: int, lang: str, preferred: list[str], alts: list[str]) -> None:
            seen: set[str] = set()
            for source, texts in (("preferred", preferred), ("alt", alts)):
                for text in texts:
                    key = text.lower()
                    if key not in seen:
                        seen.add(key)
                        label_rows.append((pos, text, lang, source))

        for rec in skills.itertuples(index=False):
            pos = len(rows)
            label_es = rec.preferredLabel_es if isinstance(rec.preferredLabel_es, str) else ""
            rows.append(
                {
                    "uri": rec.conceptUri,
                    "kind": "skill",
                    "label_en": rec.preferredLabel_en,
                    "label_es": label_es,
                    "skill_type": getattr(rec, "skillType", ""),
                    "isco_group": "",
                    "is_transversal": bool(getattr(rec, "isTransversal", 0)),
                    "description_en": _text(getattr(rec, "description_en", "")),
                    "description_es": _text(getattr(rec, "description_es", "")),
                }
            )
            add_labels(pos, "en", [rec.preferredLabel_en], _split(getattr(rec, "altLabels_en", "")))
            add_labels(
                pos,
                "es",
                [label_es] if label_es else [],
                _split(getattr(rec, "altLabels_es", "")),
            )

        for rec in occupations.itertuples(index=False):
            pos = len(rows)
            pref_es = rec.preferredLabel_es if isinstance(rec.preferredLabel_es, str) else ""
            rows.append(
                {
                    "uri": rec.conceptUri,
                    "kind": "occupation",
                    "label_en": rec.preferredLabel_en,
                    "label_es": pref_es,
                    "skill_type": "",
                    "isco_group": str(rec.iscoGroup),
                    "is_transversal": False,
                    "description_en": _text(getattr(rec, "description_en", "")),
                    "description_es": _text(getattr(rec, "description_es", "")),
                }
            )
            add_labels(pos, "en", [rec.preferredLabel_en], _split(getattr(rec, "altLabels_en", "")))
            # Spanish occupation labels come as gendered pairs: "técnico X/técnica X".
            gendered = [p.strip() for p in pref_es.split("/") if p.strip()]
            add_labels(pos, "es", gendered, _split(getattr(rec, "altLabels_es", "")))

        concepts = pd.DataFrame(rows)
        uri_pos = {uri: i for i, uri in enumerate(concepts["uri"])}
        if len(uri_pos) != len(concepts):
            raise TaxonomyError("taxonomy: a URI appears both as a skill and as an occupation")

        # Occupation -> skill relations.
        occ = relations["occupationUri"].map(uri_pos)
        skl = relations["skillUri"].map(uri_pos)
        unknown = relations[occ.isna() | skl.isna()]
        if len(unknown):
            raise TaxonomyError(
                f"taxonomy: {len(unknown)} relation(s) name unknown concepts, "
                f"first: {unknown.iloc[0].to_dict()}"
            )
        weight = np.where(relations["relationType"].eq("essential"), ESSENTIAL, OPTIONAL)
        n = len(concepts)
        rel = sparse.coo_matrix(
            (weight, (occ.to_numpy(int), skl.to_numpy(int))), shape=(n, n)
        ).tocsr()
        rel.sum_duplicates()
        rel.data = np.minimum(rel.data, ESSENTIAL)

        # Sector tags of skills: the sectors of the occupations that use them.
        sectors = [""] * n
        if "sector" in occupations.columns:
            occ_sector = {
                uri_pos[u]: s for u, s in zip(occupations["conceptUri"], occupations["sector"])
            }
            for o, s in occ_sector.items():
                sectors[o] = s
            per_skill: dict[int, set[str]] = {}
            coo = rel.tocoo()
            for o, s in zip(coo.row, coo.col):
                per_skill.setdefault(int(s), set()).add(occ_sector[int(o)])
            for s, tags in per_skill.items():
                sectors[s] = "|".join(sorted(tags))
        concepts["sectors"] = sectors

        if synonyms is not None and len(synonyms):
            problems = []
            for i, rec in enumerate(synonyms.itertuples(index=False), start=2):
                found = uri_pos.get(str(rec.uri))
                if found is None:
                    problems.append(f"line {i}: unknown uri {rec.uri!r}")
                    continue
                pos = found
                if concepts.at[pos, "kind"] != rec.kind:
                    problems.append(
                        f"line {i}: {rec.term!r} says kind={rec.kind!r}, "
                        f"uri is a {concepts.at[pos, 'kind']}"
                    )
                    continue
                label_rows.append((pos, str(rec.term), str(rec.lang), "synonym"))
            if problems:
                raise TaxonomyError("synonym layer: " + "; ".join(problems[:10]))

        labels = pd.DataFrame(label_rows, columns=["concept", "text", "lang", "source"])
        isco = (
            isco_groups.rename(
                columns={"preferredLabel_en": "label_en", "preferredLabel_es": "label_es"}
            )[["code", "label_en", "label_es"]].astype({"code": str})
            if isco_groups is not None
            else pd.DataFrame(columns=["code", "label_en", "label_es"])
        )
        groups = (
            word_groups[["lang", "words"]].reset_index(drop=True)
            if word_groups is not None
            else pd.DataFrame(columns=["lang", "words"])
        )
        return cls(
            concepts=concepts,
            labels=labels,
            relations=rel,
            isco_groups=isco,
            version=version,
            word_groups=groups,
            real_words=real_words,
        )

    # ---------------------------------------------------------------- lookups
    def __len__(self) -> int:
        return len(self.concepts)

    def position(self, uri: str) -> int:
        """Concept position of ``uri``; raises ``KeyError`` if unknown."""
        return self._uri_index[uri]

    def get_position(self, uri: str) -> int | None:
        return self._uri_index.get(uri)

    def label(self, pos: int, lang: str = "es") -> str:
        """Display label in ``lang``, falling back to English where ESCO has no Spanish."""
        return self._display_labels[1 if lang == "es" else 0][pos]

    @cached_property
    def uris(self) -> list[str]:
        """Concept URIs by position."""
        return [str(u) for u in self.concepts["uri"].tolist()]

    @cached_property
    def _display_labels(self) -> tuple[list[str], list[str]]:
        # Plain lists: explanations ask for labels hundreds of thousands of times.
        en = [str(x) for x in self.concepts["label_en"].tolist()]
        es = [str(x) if x else e for x, e in zip(self.concepts["label_es"].tolist(), en)]
        return en, es

    @cached_property
    def is_skill(self) -> np.ndarray:
        return self.concepts["kind"].to_numpy() == "skill"

    @cached_property
    def is_occupation(self) -> np.ndarray:
        return self.concepts["kind"].to_numpy() == "occupation"

    def without_labels(self, mask: np.ndarray) -> SkillTaxonomy:
        """A copy without the label rows where ``mask`` is true (for held-out evaluation)."""
        kept = self.labels.loc[~np.asarray(mask, bool)].reset_index(drop=True)
        return SkillTaxonomy(
            concepts=self.concepts,
            labels=kept,
            relations=self.relations,
            isco_groups=self.isco_groups,
            version=self.version + "+heldout",
            word_groups=self.word_groups,
            real_words=self.real_words,
        )
