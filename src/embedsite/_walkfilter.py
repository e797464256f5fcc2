"""Which OpenStreetMap ways a resident can walk on (the pedestrian filter).

The rule is data, not code paths: a planner reads it with ``print(WalkFilter())`` and changes it
with ``dataclasses.replace``. The same rule is applied to file data (vectorised over a table of
way tags) and sent to Overpass (as osmnx ``custom_filter`` strings), so that a network built
from a file and one downloaded online follow one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["WalkFilter"]


def _alt(values: frozenset[str]) -> str:
    return "^(" + "|".join(sorted(values)) + ")$"


@dataclass(frozen=True)
class WalkFilter:
    """The pedestrian filter: which ``highway=*`` ways are walkable.

    A way is walkable when

    * its ``highway`` value is in :attr:`highways`, or in :attr:`with_sidewalk_only` and it has
      a sidewalk (``sidewalk`` both/left/right/yes) or an explicit foot permission, or in
      :attr:`with_foot_permission_only` and it has an explicit foot permission
      (``foot`` in :attr:`foot_allowed`);
    * and it is not closed to pedestrians: ``foot`` in :attr:`foot_denied`, ``access`` in
      :attr:`access_denied` (unless ``foot`` explicitly allows), ``service`` in
      :attr:`service_denied`, or ``area=yes`` (pedestrian squares drawn as areas have no
      centre line to route on).

    Roads under construction, proposed, abandoned and platforms never qualify because their
    ``highway`` value is not listed. Motorways are not listed; trunk roads count only where
    they carry a sidewalk (many Chinese urban expressways are tagged trunk).

    Examples
    --------
    >>> from dataclasses import replace
    >>> f = WalkFilter()
    >>> "steps" in f.highways and "motorway" not in f.highways
    True
    >>> no_steps = replace(f, highways=f.highways - {"steps"})  # e.g. a wheelchair network
    >>> "steps" in no_steps.highways
    False
    """

    highways: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {
                "footway",
                "path",
                "steps",
                "pedestrian",
                "living_street",
                "residential",
                "service",
                "unclassified",
                "road",
                "track",
                "corridor",
                "tertiary",
                "tertiary_link",
                "secondary",
                "secondary_link",
                "primary",
                "primary_link",
            }
        )
    )
    with_sidewalk_only: frozenset[str] = frozenset({"trunk", "trunk_link"})
    with_foot_permission_only: frozenset[str] = frozenset({"cycleway", "bridleway"})
    foot_allowed: frozenset[str] = frozenset({"yes", "designated", "permissive"})
    foot_denied: frozenset[str] = frozenset({"no", "private", "use_sidepath"})
    access_denied: frozenset[str] = frozenset({"no", "private"})
    service_denied: frozenset[str] = frozenset({"private"})
    sidewalk_present: frozenset[str] = frozenset({"both", "left", "right", "yes"})

    def mask(self, tags: pd.DataFrame) -> np.ndarray:
        """Return a boolean array: which rows (ways) of a tag table are walkable.

        Parameters
        ----------
        tags
            One row per way, one column per OSM key (missing keys and values are allowed).

        Examples
        --------
        >>> import pandas as pd
        >>> ways = pd.DataFrame({"highway": ["footway", "motorway", "trunk", "trunk", "service"],
        ...                      "sidewalk": [None, None, "both", None, None],
        ...                      "access": [None, None, None, None, "private"]})
        >>> WalkFilter().mask(ways).tolist()
        [True, False, True, False, False]
        """

        def col(key: str) -> pd.Series:
            if key in tags.columns:
                return tags[key].astype("object")
            return pd.Series([None] * len(tags), index=tags.index, dtype="object")

        highway = col("highway")
        foot = col("foot")
        foot_ok = foot.isin(self.foot_allowed)
        sidewalk = (
            col("sidewalk").isin(self.sidewalk_present)
            | col("sidewalk:both").isin({"yes"})
            | col("sidewalk:left").isin({"yes"})
            | col("sidewalk:right").isin({"yes"})
        )
        kind_ok = (
            highway.isin(self.highways)
            | (highway.isin(self.with_sidewalk_only) & (sidewalk | foot_ok))
            | (highway.isin(self.with_foot_permission_only) & foot_ok)
        )
        closed = (
            foot.isin(self.foot_denied)
            | (col("access").isin(self.access_denied) & ~foot_ok)
            | col("service").isin(self.service_denied)
            | (col("area") == "yes")
        )
        return np.asarray(kind_ok & ~closed, dtype=bool)

    def to_overpass(self) -> list[str]:
        """The same rule as osmnx ``custom_filter`` strings (their union is the filter).

        Examples
        --------
        >>> filters = WalkFilter().to_overpass()
        >>> len(filters)
        4
        >>> '["highway"~"^(corridor|footway|' in filters[0]
        True
        """
        not_closed_foot = f'["foot"!~"{_alt(self.foot_denied)}"]'
        common = f'["area"!~"yes"]["service"!~"{_alt(self.service_denied)}"]{not_closed_foot}'
        open_access = f'["access"!~"{_alt(self.access_denied)}"]'
        foot_ok = f'["foot"~"{_alt(self.foot_allowed)}"]'
        return [
            f'["highway"~"{_alt(self.highways)}"]{common}{open_access}',
            f'["highway"~"{_alt(self.highways | self.with_sidewalk_only)}"]{common}{foot_ok}',
            f'["highway"~"{_alt(self.with_sidewalk_only)}"]{common}{open_access}'
            f'["sidewalk"~"{_alt(self.sidewalk_present)}"]',
            f'["highway"~"{_alt(self.with_foot_permission_only)}"]{common}{foot_ok}',
        ]

    def __str__(self) -> str:
        return (
            "Walkable OSM ways:\n"
            f"  highway in {sorted(self.highways)}\n"
            f"  or highway in {sorted(self.with_sidewalk_only)} with a sidewalk "
            f"(sidewalk in {sorted(self.sidewalk_present)}) "
            f"or foot in {sorted(self.foot_allowed)}\n"
            f"  or highway in {sorted(self.with_foot_permission_only)} with foot in "
            f"{sorted(self.foot_allowed)}\n"
            f"Excluded: foot in {sorted(self.foot_denied)}; access in {sorted(self.access_denied)} "
            f"unless foot allows; service in {sorted(self.service_denied)}; area=yes"
        )
