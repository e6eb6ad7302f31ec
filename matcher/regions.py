"""Peru's departments: names as people write them, capitals, distances between them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matcher.text import fold

__all__ = ["Regions"]

_EARTH_KM = 6371.0


@dataclass(frozen=True, eq=False)
class Regions:
    """Known regions with a distance matrix (km between capitals).

    Unknown names still compare equal to themselves (after folding case and
    accents); only their distances are unknown.

    >>> r = Regions.from_frame(pd.DataFrame({
    ...     "region": ["Lima", "Cusco"], "latitude": [-12.05, -13.53],
    ...     "longitude": [-77.04, -71.97],
    ...     "aliases": ["Lima Metropolitana", "Cuzco|Qosqo"]}))
    >>> r.code("CUZCO") == r.code("Cusco")
    True
    >>> round(float(r.distance_km[r.code("lima"), r.code("cusco")]))
    574
    """

    names: tuple[str, ...]
    distance_km: np.ndarray
    _codes: dict[str, int]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Regions:
        names = tuple(str(n) for n in frame["region"])
        codes: dict[str, int] = {}
        for i, (name, aliases) in enumerate(zip(names, frame.get("aliases", [""] * len(names)))):
            codes[fold(name)] = i
            for alias in str(aliases or "").split("|"):
                if alias.strip():
                    codes[fold(alias)] = i
        lat = np.radians(frame["latitude"].astype(float).to_numpy())
        lon = np.radians(frame["longitude"].astype(float).to_numpy())
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        dist = 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        return cls(names=names, distance_km=dist, _codes=codes)

    @classmethod
    def empty(cls) -> Regions:
        return cls(names=(), distance_km=np.zeros((0, 0)), _codes={})

    def code(self, name: str) -> int:
        """Index of a known region, or -1."""
        return self._codes.get(fold(name or ""), -1)

    def canonical(self, name: str) -> str:
        """The department's name as shipped, or the folded text for unknown names."""
        code = self.code(name)
        return self.names[code] if code >= 0 else fold(name or "")
