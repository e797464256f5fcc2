"""Candidate-site rule tables and land-use classes (private; see :mod:`embedsite.candidates`).

Two shipped CSV tables drive the OSM reader: ``data/candidate_rules.csv`` (tag -> kind, with
the land-use class the object implies and its floor-area defaults) and
``data/land_use_rules.csv`` (landuse polygon tags -> land-use class). :data:`LAND_USE_CLASSES`
says which classes the 2024 guide allows and how a user's table may name them.

Examples
--------
>>> LAND_USE_CLASSES["industrial_2"].allowed, LAND_USE_CLASSES["industrial_1"].allowed
(False, True)
>>> resolve_land_use(pd.Series(["居住用地", "M1", "100102", None]), "用地").tolist()
['residential', 'industrial_1', 'industrial_2', None]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embedsite._facilityrules import _rule_table, _tag_mask
from embedsite._facilitytables import _resolve_types
from embedsite.errors import InputError
from embedsite.standards import Standards

#: Kinds of candidate site, in report order.
KINDS: tuple[str, ...] = (
    "vacant_building", "industrial_building", "warehouse", "retail_building",
    "commercial_building", "parking", "brownfield", "community_centre", "leftover_corner",
    "user",
)  # fmt: skip
_KIND_COLUMNS = ("kind", "key", "value", "and_key", "and_value", "land_use", "default_levels",
                 "coverage", "point_floor_area_m2", "allowed_types", "note")  # fmt: skip
_LAND_COLUMNS = ("land_use", "key", "value", "and_key", "and_value", "note")


@dataclass(frozen=True)
class LandUseClass:
    """A land-use class: names, codes and whether the 2024 guide allows embedded facilities.

    ``codes`` are those of the 2023 national land-use classification (国土空间调查、规划、用途
    管制用地用海分类指南) and of the older GB 50137-2011 (still used by many 控规).
    """

    key: str
    name_zh: str
    name_en: str
    codes: tuple[str, ...]
    allowed: bool


def _c(key: str, zh: str, en: str, codes: str, allowed: bool) -> tuple[str, LandUseClass]:
    return key, LandUseClass(key, zh, en, tuple(codes.split()), allowed)


#: Land-use classes. Allowed (城市社区嵌入式服务设施建设导则(试行), 2024): residential, public
#: administration and service, commercial, class-1 industrial, new-type industrial, class-1
#: logistics/warehouse and plaza land. Government-built non-profit facilities may keep their
#: original land use for five years (pass ``land_use_filter=False`` or your own classes).
LAND_USE_CLASSES: dict[str, LandUseClass] = dict(
    [
        _c("residential", "居住用地", "residential", "07 R", True),
        _c(
            "public_service",
            "公共管理与公共服务用地",
            "public administration and service",
            "08 A",
            True,
        ),
        _c("commercial", "商业服务业用地", "commercial and business", "09 B", True),
        _c("industrial_1", "一类工业用地", "class-1 industrial", "100101 M1", True),
        _c("industrial_new", "新型产业用地", "new-type industrial", "M0", True),
        _c("logistics_1", "一类物流仓储用地", "class-1 logistics and warehouse", "110101 W1", True),
        _c("plaza", "广场用地", "plaza", "1403 G3", True),
        _c("industrial_2", "二类工业用地", "class-2 industrial", "100102 M2", False),
        _c("industrial_3", "三类工业用地", "class-3 industrial", "100103 M3", False),
        _c(
            "logistics_2", "二类物流仓储用地", "class-2 logistics and warehouse", "110102 W2", False
        ),
        _c(
            "logistics_3", "三类物流仓储用地", "class-3 logistics and warehouse", "110103 W3", False
        ),
        _c("transport", "交通运输用地", "transport", "12 S", False),
        _c(
            "green_space",
            "公园绿地与防护绿地",
            "parks and protective green space",
            "1401 1402 G1 G2",
            False,
        ),
        _c("special", "特殊用地", "special (military, religious, burial)", "15 H4", False),
        _c(
            "agri_forest",
            "农林用地",
            "farmland, orchards, forest, grassland",
            "01 02 03 04 05 06",
            False,
        ),
        _c("water", "陆地水域", "water", "17 E1", False),
    ]
)
#: The classes the 2024 guide allows.
GUIDE_ALLOWED: frozenset[str] = frozenset(k for k, c in LAND_USE_CLASSES.items() if c.allowed)


def land_use_names() -> dict[str, str]:
    """Every accepted spelling (key, Chinese name, code) -> class key."""
    names: dict[str, str] = {}
    for c in LAND_USE_CLASSES.values():
        for n in (c.key, c.name_zh, *c.codes):
            names[n] = c.key
            names[n.lower()] = c.key
    return names


def resolve_land_use(values: pd.Series, column: str) -> pd.Series:
    """Land-use cells (key, Chinese name or code) -> class keys; empty -> None.

    Raises :class:`InputError` for unknown or ambiguous values, with the closest names.
    """
    names = land_use_names()
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    unknown = [v for v in pd.unique(text) if v and v not in names and v.lower() not in names]
    if unknown:
        hints = []
        for v in unknown[:5]:
            close = difflib.get_close_matches(v, list(names), n=2, cutoff=0.4)
            hints.append(f"{v!r}" + (f" (did you mean {' or '.join(map(repr, close))}?)"
                                     if close else ""))  # fmt: skip
        raise InputError(
            f"column {column!r} has {len(unknown)} unknown land-use value(s): {', '.join(hints)}. "
            "Give a class key, Chinese name or code (an industrial or logistics class must say "
            f"which: 一类工业用地/M1/100101 ...); known classes: {', '.join(LAND_USE_CLASSES)}"
        )
    out = text.map(lambda v: names.get(v, names.get(v.lower())) if v else None)
    return out.astype(object).where(text != "", None)


def allowed_classes(land_use_filter: bool | object) -> frozenset[str]:
    """The classes kept by ``land_use_filter`` (True: the guide's; False: all; or given keys)."""
    if land_use_filter is True:
        return GUIDE_ALLOWED
    if land_use_filter is False:
        return frozenset(LAND_USE_CLASSES)
    if isinstance(land_use_filter, str) or not hasattr(land_use_filter, "__iter__"):
        raise InputError(
            "land_use_filter must be True (the 2024 guide's classes), False (no filter) or a "
            f"collection of class keys, not {land_use_filter!r}"
        )
    given = list(land_use_filter)
    bad = [k for k in given if k not in LAND_USE_CLASSES]
    if bad:
        raise InputError(
            f"land_use_filter names unknown class(es) {bad}; known: {', '.join(LAND_USE_CLASSES)}"
        )
    return frozenset(given)


# --------------------------------------------------------------------------- tables
def read_kind_rules(
    source: pd.DataFrame | str | Path | None = None, *, standards: Standards | None = None
) -> pd.DataFrame:
    """The tag -> kind rules, checked; numbers parsed, allowed types resolved to keys."""
    table = _rule_table(source, "data/candidate_rules.csv", _KIND_COLUMNS, "candidate rules")
    bad_kind = ~table["kind"].isin(["", *KINDS]) | table["kind"].isin(["leftover_corner", "user"])
    if bad_kind.any():
        raise InputError(
            f"candidate rules name unknown kind(s) {table.loc[bad_kind, 'kind'].unique().tolist()}"
            "; "
            f"OSM kinds: {', '.join(k for k in KINDS if k not in ('leftover_corner', 'user'))}"
        )
    if (table["key"] == "").any():
        raise InputError(f"candidate rules need a key; rows {list(table.index[table.key == ''])}")
    _check_classes(table, "candidate rules", empty=True)
    for col, low in (("default_levels", 0.0), ("coverage", 0.0), ("point_floor_area_m2", 0.0)):
        num = pd.to_numeric(table[col].replace("", np.nan), errors="coerce")
        typed = table["kind"] != ""
        bad = typed & ~(num > low) | (typed & (col == "coverage") & (num > 1))
        if bad.any():
            raise InputError(
                f"candidate rules: {col} must be a positive number"
                f"{' at most 1' if col == 'coverage' else ''} on every kind row; bad rows "
                f"{table.loc[bad, ['kind', 'key', 'value', col]].head(3).to_dict('records')}"
            )
        table[col] = num
    std = standards or Standards.default()
    table["allowed_types"] = joined_types(table["allowed_types"], std, "allowed_types")
    return table


def read_land_use_rules(source: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """The landuse polygon tag -> land-use class rules, checked."""
    table = _rule_table(source, "data/land_use_rules.csv", _LAND_COLUMNS, "land-use rules")
    if ((table["key"] == "") | (table["land_use"] == "")).any():
        raise InputError("land-use rules need a land_use class and a key on every row")
    _check_classes(table, "land-use rules", empty=False)
    return table


def _check_classes(table: pd.DataFrame, what: str, *, empty: bool) -> None:
    used = table["land_use"]
    bad = ~used.isin([*LAND_USE_CLASSES, *([""] if empty else [])])
    if bad.any():
        raise InputError(
            f"{what} name unknown land-use class(es) {used[bad].unique().tolist()}; known: "
            f"{', '.join(LAND_USE_CLASSES)}"
        )


def first_match(rules: pd.DataFrame, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Row of the first rule each feature matches (-1: none), and the rules' condition labels."""
    rule = np.full(len(frame), -1, dtype=np.int64)
    conds = []
    for i, (key, value, and_key, and_value) in enumerate(
        zip(rules["key"], rules["value"], rules["and_key"], rules["and_value"], strict=True)
    ):  # one vectorised mask per rule
        hit = _tag_mask(frame, key, value)
        cond = f"{key}={value or '*'}"
        if and_key:
            hit &= _tag_mask(frame, and_key, and_value)
            cond += f" & {and_key}={and_value or '*'}"
        rule[(rule < 0) & hit] = i
        conds.append(cond)
    return rule, conds


def joined_types(raw: pd.Series, standards: Standards, column: str) -> np.ndarray:
    """Cells of facility types (keys or Chinese names, ``;``/``、``/``,``-separated) -> keys
    joined by ``;`` ("" for an empty cell: any type). Unknown names raise with suggestions."""
    pos, keys, _ = _resolve_types(raw, standards, column)
    out = np.full(len(raw), "", dtype=object)
    if len(pos):
        joined = (
            pd.Series(keys, index=pos).groupby(level=0).agg(lambda k: ";".join(dict.fromkeys(k)))
        )
        out[joined.index.to_numpy(dtype=int)] = joined.to_numpy(dtype=object)
    return out


def tag_columns(*tables: pd.DataFrame) -> list[str]:
    """The tag keys the rule tables use."""
    keys = [k for t in tables for k in (*t["key"], *t["and_key"])]
    return [k for k in dict.fromkeys(keys) if k]


__all__ = [
    "GUIDE_ALLOWED",
    "KINDS",
    "LAND_USE_CLASSES",
    "LandUseClass",
    "allowed_classes",
    "first_match",
    "joined_types",
    "land_use_names",
    "read_kind_rules",
    "read_land_use_rules",
    "resolve_land_use",
    "tag_columns",
]
