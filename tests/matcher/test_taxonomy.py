from __future__ import annotations

import pandas as pd
import pytest

from matcher.exceptions import TaxonomyError
from matcher.io import default_fixtures_dir
from matcher.taxonomy import SkillTaxonomy
from matcher.text import fold


def test_shipped_taxonomy_has_both_kinds_and_languages(taxonomy):
    kinds = taxonomy.concepts["kind"].value_counts()
    assert kinds["skill"] == 2891
    assert kinds["occupation"] == 247
    langs = taxonomy.labels.groupby("lang").size()
    assert langs["en"] > 19_000 and langs["es"] > 7_000
    assert taxonomy.relations.nnz == 11_050
    assert set(taxonomy.relations.data) == {1.0, 2.0}


def test_gendered_spanish_occupation_labels_are_split(taxonomy):
    pos = taxonomy.position(
        "http://data.europa.eu/esco/occupation/bcde2372-fcf3-4270-8f62-c5583d1bb9ec"
    )
    texts = set(taxonomy.labels.loc[taxonomy.labels["concept"] == pos, "text"])
    assert {"instalador de fibra óptica", "instaladora de fibra óptica"} <= texts
    assert not any("/" in t for t in texts if t.startswith("instalador"))


def test_skill_sectors_come_from_the_occupations_that_use_them(taxonomy):
    used = taxonomy.relations.getnnz(axis=0) > 0
    sectors = taxonomy.concepts["sectors"]
    assert (sectors[used & taxonomy.is_skill] != "").all()
    # Transversal and language skills that no subset occupation lists carry no sector.
    assert (sectors[~used & taxonomy.is_skill] == "").all()
    assert sectors.str.contains("telecom").any()


def test_synonym_layer_is_reviewed_data_mapped_to_real_concepts(taxonomy):
    syn = pd.read_csv(default_fixtures_dir() / "synonyms" / "peru_latam.csv")
    assert len(syn) >= 150
    counts = syn["sector"].value_counts()
    assert min(counts["energy"], counts["telecom"], counts["environment"]) >= 40
    for row in syn.itertuples():
        pos = taxonomy.position(row.uri)
        assert taxonomy.concepts.at[pos, "kind"] == row.kind
    # Each term adds a form the concept did not already have in ESCO.
    esco = taxonomy.labels[taxonomy.labels["source"] != "synonym"]
    own = set(zip(esco["concept"], esco["text"].map(fold)))
    assert not [
        t for t, u in zip(syn["term"], syn["uri"]) if (taxonomy.position(u), fold(t)) in own
    ]


def test_synonym_with_unknown_uri_is_rejected(taxonomy):
    skills = pd.DataFrame(
        {"conceptUri": ["s1"], "preferredLabel_en": ["weld"], "preferredLabel_es": ["soldar"]}
    )
    occs = pd.DataFrame(
        {
            "conceptUri": ["o1"],
            "preferredLabel_en": ["welder"],
            "preferredLabel_es": ["soldador/soldadora"],
            "iscoGroup": ["7212"],
        }
    )
    rel = pd.DataFrame({"occupationUri": ["o1"], "skillUri": ["s1"], "relationType": ["essential"]})
    tiny = SkillTaxonomy.from_frames(skills=skills, occupations=occs, relations=rel)
    assert len(tiny) == 2 and tiny.relations[1, 0] == 2.0
    bad = pd.DataFrame({"term": ["x"], "lang": ["es"], "kind": ["skill"], "uri": ["nope"]})
    with pytest.raises(TaxonomyError, match="unknown uri 'nope'"):
        SkillTaxonomy.from_frames(skills=skills, occupations=occs, relations=rel, synonyms=bad)
    bad_rel = rel.assign(skillUri=["missing"])
    with pytest.raises(TaxonomyError, match="unknown concepts"):
        SkillTaxonomy.from_frames(skills=skills, occupations=occs, relations=bad_rel)
