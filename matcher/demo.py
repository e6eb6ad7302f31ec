"""``make demo``: the main job on the shipped synthetic demo data.

Normalises a list of skills as returnees write them and prints the table.
"""

from __future__ import annotations

import sys

import pandas as pd

from matcher.io import default_fixtures_dir, load_taxonomy
from matcher.normalise import SkillNormaliser


def main() -> int:
    mentions = (default_fixtures_dir() / "demo" / "skills_demo.txt").read_text("utf-8").splitlines()
    normaliser = SkillNormaliser(load_taxonomy())
    table = normaliser.normalise([m for m in mentions if m.strip()], top_k=1)
    shown = table[["mention", "label_es", "label_en", "score", "method"]]
    print("Competencias normalizadas a ESCO / Skills normalised to ESCO (synthetic demo data)\n")
    with pd.option_context("display.width", 200, "display.max_colwidth", 48):
        print(shown.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
