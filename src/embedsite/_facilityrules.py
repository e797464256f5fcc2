"""The facility rule engine and rule-table readers (private; see :mod:`embedsite.facilities`).

Rule tables (OSM tag and Chinese name rules, POI category rules) are read and checked here,
then applied to all features at once: one boolean mask per rule, hits resolved so the most
specific tag or category rule wins and name rules type only the features left over.

Examples
--------
>>> import pandas as pd
>>> names = pd.Series(["阳光幼儿园", "长者食堂"])
>>> _contains(names, "幼儿园").tolist()
[True, False]
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from embedsite.errors import DataFileError, InputError, MissingColumnError, UnknownFacilityTypeError
from embedsite.standards import Standards

_NAME_TAGS = ("name", "name:zh")
_RULE_COLUMNS = ("facility_type", "key", "value", "and_key", "and_value", "name_pattern",
                 "name_exclude", "note")  # fmt: skip
_POI_COLUMNS = ("provider", "field", "category", "facility_type", "name_pattern",
                "name_exclude", "note")  # fmt: skip
_OPTIONAL = ("note", "and_key", "and_value")


# --------------------------------------------------------------------------- rule tables
def _rule_table(
    source: pd.DataFrame | str | Path | None, default: str, columns: tuple[str, ...], what: str
) -> pd.DataFrame:
    if source is None:
        text = resources.files("embedsite").joinpath(default).read_text(encoding="utf-8")
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, comment="#")
    elif isinstance(source, pd.DataFrame):
        table = source.astype(object).where(source.notna(), "").astype(str)
    else:
        try:
            table = pd.read_csv(source, dtype=str, keep_default_na=False, comment="#")
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataFileError(f"cannot read the {what} table {str(source)!r}: {exc}") from exc
    missing = [c for c in columns if c not in table.columns and c not in _OPTIONAL]
    if missing:
        raise MissingColumnError(
            f"the {what} table lacks column(s) {missing}; it has {list(table.columns)}. "
            f"Columns: {', '.join(columns)} (see the shipped embedsite/{default})"
        )
    table = table.reindex(columns=list(columns), fill_value="").reset_index(drop=True)
    return table.apply(lambda col: col.str.strip())


def _check_table(table: pd.DataFrame, standards: Standards, what: str) -> pd.DataFrame:
    types = table["facility_type"]
    keys = {}
    for value in types[types != ""].unique():  # one lookup per distinct type
        try:
            keys[value] = standards[value].key
        except UnknownFacilityTypeError as exc:
            raise UnknownFacilityTypeError(f"the {what} table names an {exc}") from None
    for col in ("name_pattern", "name_exclude"):
        for pattern in table[col][table[col] != ""].unique():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise InputError(
                    f"{col} {pattern!r} in the {what} table is not a valid regular expression "
                    f"({exc}); escape literal brackets and use (?:...) groups"
                ) from None
    return table.assign(facility_type=types.replace(keys))


# --------------------------------------------------------------------------- matching
def _contains(text: pd.Series, pattern: str) -> np.ndarray:
    with warnings.catch_warnings():  # capturing groups in a user's pattern are harmless here
        warnings.filterwarnings("ignore", "This pattern", UserWarning)
        return np.array(text.str.contains(pattern, regex=True), dtype=bool)


def _text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None or column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    col = frame[column]
    return col.astype(object).where(col.notna(), "").astype(str)


def _tag_mask(frame: pd.DataFrame, key: str, value: str) -> np.ndarray:
    text = _text(frame, key)
    if value in ("", "*"):
        return np.array((text != "") & (text != "no"), dtype=bool)
    alternatives = "|".join(re.escape(v.strip()) for v in value.split("|"))
    return _contains(text, rf"(?:^|;)\s*(?:{alternatives})\s*(?:;|$)")  # OSM lists "a;b"


def _run_rules(
    rules: pd.DataFrame,
    bases: list[np.ndarray],
    conds: list[str],
    by: list[str],
    spec: list[int],
    names: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply each rule to all features at once -> typed hits (pos, type...) and reasons."""
    hits, reasons = [], []
    columns = ("facility_type", "name_pattern", "name_exclude", "note")
    for order, (ftype, pattern, exclude, note) in enumerate(
        zip(*map(rules.get, columns), strict=True)
    ):
        base, cond, kind = bases[order], conds[order], by[order]
        ok, label = base.copy(), cond
        if pattern and kind != "name":
            ok &= _contains(names, pattern)
            label += f" & name~/{pattern}/"
        if exclude:
            ok &= ~_contains(names, exclude)
        if ftype:
            hits.append(pd.DataFrame({"pos": np.flatnonzero(ok), "facility_type": ftype,
                                      "matched_by": kind, "match_rule": label,
                                      "spec": spec[order], "order": order}))  # fmt: skip
            if kind == "name":
                text = f"{cond} but excluded by /{exclude}/"
            else:
                text = f"{cond}, but the name fits none of its rules"
            reasons.append(pd.DataFrame({"pos": np.flatnonzero(base & ~ok), "reason": text}))
        else:
            why = f"{cond}: {note or 'no facility type'}"
            reasons.append(pd.DataFrame({"pos": np.flatnonzero(ok), "reason": why}))
    hit_columns = ["pos", "facility_type", "matched_by", "match_rule", "spec", "order"]
    h = pd.concat([pd.DataFrame(columns=hit_columns), *hits], ignore_index=True)
    r = pd.concat([pd.DataFrame(columns=["pos", "reason"]), *reasons], ignore_index=True)
    return h.astype({"pos": int, "spec": int, "order": int}), r.astype({"pos": int})


def _resolve(hits: pd.DataFrame) -> pd.DataFrame:
    """Tag/category hits win (the most specific); names type only features they left."""
    primary = hits[hits["matched_by"] != "name"]
    primary = primary[primary["spec"] == primary.groupby("pos")["spec"].transform("max")]
    by_name = hits[(hits["matched_by"] == "name") & ~hits["pos"].isin(primary["pos"])]
    out = pd.concat([primary, by_name]).sort_values(["pos", "order"], kind="stable")
    return out.drop_duplicates(["pos", "facility_type"]).reset_index(drop=True)


def _name_bases(rules: pd.DataFrame, names: pd.Series) -> tuple[list[np.ndarray], list[str]]:
    """Base masks of name rules (the pattern itself); tag rows get placeholders."""
    bases = [_contains(names, p) if k == "" else np.zeros(len(names), bool)
             for k, p in zip(rules["key"], rules["name_pattern"], strict=True)]  # fmt: skip
    return bases, [f"name~/{p}/" for p in rules["name_pattern"]]


def _name_text(frame: pd.DataFrame, columns: Iterable[str] = _NAME_TAGS) -> pd.Series:
    text = pd.Series("", index=frame.index, dtype=object)
    for col in columns:
        text = text + "\n" + _text(frame, col)
    return text


def _osm_bases(
    rules: pd.DataFrame, frame: pd.DataFrame, names: pd.Series
) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Base masks, condition labels and kinds of OSM rules: tag rules, then name rules."""
    tag = rules["key"] != ""
    bases, conds = _name_bases(rules, names)
    for i in np.flatnonzero(tag.to_numpy()):
        r = rules.iloc[i]
        bases[i] = _tag_mask(frame, r["key"], r["value"])
        conds[i] = f"{r['key']}={r['value'] or '*'}"
        if r["and_key"]:
            bases[i] = bases[i] & _tag_mask(frame, r["and_key"], r["and_value"])
            conds[i] += f" & {r['and_key']}={r['and_value'] or '*'}"
    by = np.where(tag, "tag", "name").tolist()
    return bases, conds, by


def _category_bases(
    crules: pd.DataFrame, cats: pd.Series, codes: pd.Series, dup: np.ndarray, provider: str
) -> tuple[list[np.ndarray], list[str], list[int]]:
    """Base masks, condition labels and specificity of POI category and typecode rules."""
    bases, conds, spec = [], [], []
    for fld, cat in zip(crules["field"], crules["category"], strict=True):  # per rule
        text, tail = (cats, r"(?:;|\||$)") if fld == "category" else (codes, "")
        bases.append(_contains(text, rf"(?:^|\|){re.escape(cat)}{tail}") & ~dup)
        conds.append(
            f"{provider} {'category ' + cat if fld == 'category' else 'typecode ' + cat + '*'}"
        )
        spec.append(cat.count(";") + 1 if fld == "category" else len(cat) // 2)
    return bases, conds, spec


# --------------------------------------------------------------------------- resolution
def _inside_same_type(
    chosen: pd.DataFrame, geoms: np.ndarray, pts: np.ndarray, cands: gpd.GeoDataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows of ``chosen`` whose point lies in a larger area of the same type, with reasons."""
    area = shapely.area(geoms)
    hp = chosen["pos"].to_numpy()
    types = chosen["facility_type"].to_numpy()
    is_area = np.flatnonzero(area[hp] > 0)
    i_pt, i_poly = shapely.STRtree(geoms[hp[is_area]]).query(pts[hp], predicate="within")
    outer = is_area[i_poly]
    a_in, a_out = area[hp[i_pt]], area[hp[outer]]
    smaller = (a_in < a_out) | ((a_in == a_out) & (hp[i_pt] > hp[outer]))
    inner = (types[i_pt] == types[outer]) & (hp[i_pt] != hp[outer]) & smaller
    first = pd.Series(outer[inner], index=i_pt[inner]).groupby(level=0).first()
    rows, o = first.index.to_numpy(dtype=int), hp[first.to_numpy(dtype=int)]
    # missing names must read as such, not turn the whole reason into a missing value
    names = pd.Series(cands["name"].to_numpy()[o], dtype=object).fillna("unnamed")
    what = pd.Series(cands["label"].to_numpy()[o], dtype=str)
    what = what + " (" + names.astype(str) + ")"
    reason = "inside " + what + ", also " + pd.Series(types[rows], dtype=str) + ": a part of it"
    return rows, pd.DataFrame({"pos": hp[rows], "reason": reason.to_numpy()})


def _unmatched(
    cands: gpd.GeoDataFrame,
    pts: np.ndarray,
    why: pd.DataFrame,
    kept: np.ndarray,
    report_all: bool,
    source: str,
    crs: CRS,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Candidates not kept, with their reasons joined -> (unmatched layer, their positions)."""
    labels = cands["label"].to_numpy(dtype=object)
    if report_all:  # every row of a user's table or POI export is a candidate
        rest = np.setdiff1d(np.arange(len(cands)), np.union1d(kept, why["pos"]))
        why = pd.concat([why, pd.DataFrame({"pos": rest, "reason": "no rule matches"})])
    why = why[~why["pos"].isin(kept)].drop_duplicates()
    joined = why.groupby("pos", sort=True)["reason"].agg("; ".join)
    up = joined.index.to_numpy(dtype=int)
    unmatched = gpd.GeoDataFrame(
        {"name": cands["name"].to_numpy()[up], "reason": joined.to_numpy(dtype=object),
         "detail": cands["detail"].to_numpy()[up], "source": source},
        geometry=pts[up], index=pd.Index(labels[up], name="feature"), crs=crs,
    )  # fmt: skip
    return unmatched, up
