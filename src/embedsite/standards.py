"""Facility types, the national norms and a city's own standards (stage 2).

The defaults ship as ``embedsite/data/standards.toml``: every type carries its Chinese and
English name, walk radius, areas, capacity norm, source clause and confidence. Radii that no
standard gives are embedsite defaults and say so (``is_default``). A city's own TOML file
overrides fields or adds types (:func:`load`); the programme forbids 一刀切.

>>> std = Standards.default()
>>> std["kindergarten"].walk_radius_m
300.0
>>> std["幼儿园"].key
'kindergarten'
>>> std.area_norm.required_area_m2(2620)
300.0
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args

import numpy as np
import pandas as pd

from embedsite._config import get_config
from embedsite.errors import DataFileError, InputError, PopulationError, UnknownFacilityTypeError

__all__ = [
    "AGE_GROUPS",
    "CAPACITY_UNITS",
    "CONFIDENCE_LEVELS",
    "FUNCTION_TAGS",
    "HOUSEHOLD_SIZE",
    "TIERS",
    "AgeGroup",
    "AreaNorm",
    "CapacityUnit",
    "CompositeRule",
    "Confidence",
    "FacilityType",
    "FunctionTag",
    "RuleCheck",
    "Standards",
    "Tier",
    "dumps",
    "load",
    "loads",
]

Tier = Literal["5min", "10min", "15min", "community"]
AgeGroup = Literal["0-3", "3-6", "6-12", "12-15", "60+", "all"]
CapacityUnit = Literal["places", "beds", "seats", "m2"]
Confidence = Literal["high", "medium", "low"]
FunctionTag = Literal[
    "elderly_care", "infant_care", "after_school", "meal_aid", "health", "culture", "sports",
    "employment", "disability", "service", "education",
]  # fmt: skip
TIERS: tuple[str, ...] = get_args(Tier)
AGE_GROUPS: tuple[str, ...] = get_args(AgeGroup)
CAPACITY_UNITS: tuple[str, ...] = get_args(CapacityUnit)
CONFIDENCE_LEVELS: tuple[str, ...] = get_args(Confidence)
FUNCTION_TAGS: tuple[str, ...] = get_args(FunctionTag)

_CHOICES = {
    "tier": TIERS, "age_group": AGE_GROUPS, "confidence": CONFIDENCE_LEVELS,
    "capacity_unit": CAPACITY_UNITS, "capacity_norm_basis": AGE_GROUPS,
}  # fmt: skip
_CORE_FUNCTIONS: tuple[FunctionTag, ...] = (
    "elderly_care",
    "infant_care",
    "after_school",
    "meal_aid",
)
_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
_MAX_M2_PER_100_HOUSEHOLDS = 300.0
_DEFAULT_FILE = "data/standards.toml"
_Num = TypeVar("_Num", float, np.ndarray, pd.Series)


def _did_you_mean(word: object, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _choice(where: str, value: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        known = ", ".join(repr(a) for a in allowed)
        raise InputError(
            f"{where} must be one of {known}, not {value!r}{_did_you_mean(value, allowed)}"
        )


def _number(where: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where} must be a finite number, not {value!r}")
    if positive and value <= 0:
        raise InputError(f"{where} must be > 0, not {value!r}")
    return float(value)


def _text(where: str, value: object, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise InputError(f"{where} must be a non-empty string, not {value!r}")
    return value


def _strings(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InputError(f"{where} must be a list of strings, not {value!r}")
    return tuple(dict.fromkeys(_text(where, v) for v in value))


#: Persons per household, 7th national census (2020): the default for every households figure.
HOUSEHOLD_SIZE: float = 2.62


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilityType:
    """One kind of community facility and the norms it is planned by (keyword arguments).

    Parameters
    ----------
    key, name_zh, name_en, aliases
        Lower-case ASCII identifier (``"kindergarten"``), Chinese and English names, and
        further names :class:`Standards` also looks up (``"托育机构"``).
    tier
        Life circle: ``"5min"``, ``"10min"``, ``"15min"`` or ``"community"``.
    walk_radius_m
        Network walking distance within which residents count as served.
    min_building_area_m2, max_building_area_m2, min_land_area_m2, max_land_area_m2
        Floor and land area of one facility, or None where no standard gives one.
    capacity_unit, capacity_per_1000, capacity_norm_basis
        Unit (``"places"``, ``"beds"``, ``"seats"``, ``"m2"``), the capacity required per 1000
        people, and which people: ``"all"`` = all residents (nursery: 4.5 places per 1000
        residents of every age, not per 1000 children) or an age group (``"60+"``: beds per
        1000 elderly). All None where there is no norm.
    age_group
        Who is served: ``"0-3"``, ``"3-6"``, ``"6-12"``, ``"12-15"``, ``"60+"`` or ``"all"``.
    functions
        Function tags counted by the composite-complex rule (``"infant_care"``, ...).
    source, confidence
        Clause of the figures and how sure they are (``"high"``, ``"medium"``, ``"low"``: the
        weakest of the figures; ``notes`` says which are stronger).
    is_default, notes
        Whether ``walk_radius_m`` is an embedsite default, not a standard's figure; free text.

    Examples
    --------
    >>> ft = Standards.default()["elderly_day_care_center"]
    >>> ft.name_zh, ft.walk_radius_m, ft.serves_elderly
    ('老年人日间照料中心（托老所）', 300.0, True)
    >>> round(ft.walk_minutes(), 2), round(ft.walk_minutes(for_elderly=True), 2)
    (4.17, 5.56)
    """

    key: str
    name_zh: str
    name_en: str
    tier: Tier
    walk_radius_m: float
    age_group: AgeGroup
    functions: tuple[FunctionTag, ...]
    source: str
    confidence: Confidence
    min_building_area_m2: float | None = None
    max_building_area_m2: float | None = None
    min_land_area_m2: float | None = None
    max_land_area_m2: float | None = None
    capacity_unit: CapacityUnit | None = None
    capacity_per_1000: float | None = None
    capacity_norm_basis: AgeGroup | None = None
    aliases: tuple[str, ...] = ()
    is_default: bool = False
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not _KEY_RE.fullmatch(self.key):
            raise InputError(
                "key must be lower-case ASCII letters, digits and underscores, starting with a "
                f"letter (e.g. 'kindergarten'), not {self.key!r}"
            )
        k = self.key
        if k in FUNCTION_TAGS:
            raise InputError(f"key {k!r} is a function tag; choose another key for the type")
        for name in ("name_zh", "name_en", "source", "notes"):
            _text(f"{k}: {name}", getattr(self, name), empty=name == "notes")
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value is not None or name in ("tier", "age_group", "confidence"):
                _choice(f"{k}: {name}", value, allowed)
        if not isinstance(self.is_default, bool):
            raise InputError(f"{k}: is_default must be true or false, not {self.is_default!r}")
        set_ = functools.partial(object.__setattr__, self)
        set_("walk_radius_m", _number(f"{k}: walk_radius_m", self.walk_radius_m, positive=True))
        for kind in ("building", "land"):
            lo_name, hi_name = f"min_{kind}_area_m2", f"max_{kind}_area_m2"
            bounds = []
            for name in (lo_name, hi_name):
                value = getattr(self, name)
                value = None if value is None else _number(f"{k}: {name}", value, positive=True)
                set_(name, value)
                bounds.append(value)
            lo, hi = bounds
            if lo is not None and hi is not None and lo > hi:
                raise InputError(f"{k}: {lo_name} ({lo:g}) is greater than {hi_name} ({hi:g})")
        if self.capacity_per_1000 is not None:
            set_(
                "capacity_per_1000",
                _number(f"{k}: capacity_per_1000", self.capacity_per_1000, positive=True),
            )
            if self.capacity_unit is None or self.capacity_norm_basis is None:
                raise InputError(
                    f"{k}: capacity_per_1000 needs capacity_unit ({', '.join(CAPACITY_UNITS)}) and "
                    "capacity_norm_basis (the population it is per 1000 of: 'all' or an age group)"
                )
        elif self.capacity_norm_basis is not None:
            raise InputError(f"{k}: capacity_norm_basis is set but capacity_per_1000 is not")
        functions = _strings(f"{k}: functions", self.functions)
        if not functions:
            raise InputError(f"{k}: functions must name at least one of {', '.join(FUNCTION_TAGS)}")
        for tag in functions:
            _choice(f"{k}: functions", tag, FUNCTION_TAGS)
        set_("functions", functions)
        set_("aliases", _strings(f"{k}: aliases", self.aliases))

    @property
    def serves_elderly(self) -> bool:
        """Whether the type serves residents aged 60+ (who walk more slowly)."""
        return self.age_group == "60+"

    def walk_minutes(self, speed_mps: float | None = None, *, for_elderly: bool = False) -> float:
        """Minutes to walk ``walk_radius_m``.

        Parameters
        ----------
        speed_mps
            Walking speed in m/s; by default the option ``walk_speed_mps`` (1.2), or
            ``elderly_walk_speed_mps`` (0.9) with ``for_elderly=True``.
        for_elderly
            Use the elderly walking speed (ignored when ``speed_mps`` is given).

        Examples
        --------
        >>> Standards.default()["junior_middle_school"].walk_minutes(1.0)
        16.666666666666668
        """
        if speed_mps is None:
            speed_mps = float(
                get_config()["elderly_walk_speed_mps" if for_elderly else "walk_speed_mps"]
            )
        speed = _number("speed_mps", speed_mps, positive=True)
        return self.walk_radius_m / speed / 60.0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (tuples kept).

        Examples
        --------
        >>> Standards.default()["nursery"].to_dict()["capacity_per_1000"]
        4.5
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _check_population(where: str, values: Any, *, strictly_positive: bool = False) -> None:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise PopulationError(f"{where} must be numbers, not {values!r}") from exc
    bad = ~np.isfinite(arr) | ((arr <= 0) if strictly_positive else (arr < 0))
    if bad.any():
        first = arr[bad].ravel()[:5].tolist()
        need = "> 0" if strictly_positive else ">= 0"
        raise PopulationError(f"{where} must be finite and {need}; bad values (first few): {first}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AreaNorm:
    """Floor area of community comprehensive services, per 100 **households** (每百户居民).

    The national norm is >= 30 m² per 100 households, >= 80 m² where the city can. It is
    *not* per 100 residents; convert residents to households with ``household_size``.

    Examples
    --------
    >>> norm = AreaNorm()
    >>> norm.households(5240)
    2000.0
    >>> norm.required_area_m2(5240), norm.required_area_m2(5240, level="target")
    (600.0, 1600.0)
    >>> norm.area_per_100_households(900.0, 5240)
    45.0
    """

    min_m2_per_100_households: float = 30.0
    target_m2_per_100_households: float = 80.0
    household_size: float = HOUSEHOLD_SIZE
    source: str = "城市社区嵌入式服务设施建设导则(试行) 2024; household size: 7th census (2020)"
    confidence: Confidence = "high"

    def __post_init__(self) -> None:
        lo = _number("min_m2_per_100_households", self.min_m2_per_100_households, positive=True)
        hi = _number(
            "target_m2_per_100_households", self.target_m2_per_100_households, positive=True
        )
        for name, value in (("min", lo), ("target", hi)):
            if value > _MAX_M2_PER_100_HOUSEHOLDS:
                raise InputError(
                    f"{name}_m2_per_100_households = {value:g} is implausible (> "
                    f"{_MAX_M2_PER_100_HOUSEHOLDS:g}); the norm is m² of floor area per 100 "
                    "households (national: 30 min, 80 target). Was a total area or a figure "
                    "per 1000 households given?"
                )
        if lo > hi:
            raise InputError(
                f"min_m2_per_100_households ({lo:g}) is greater than "
                f"target_m2_per_100_households ({hi:g})"
            )
        size = _number("household_size", self.household_size)
        if not 1.0 <= size <= 6.0:
            raise InputError(
                f"household_size is persons per household, between 1 and 6 (7th census: 2.62), "
                f"not {self.household_size!r}"
            )
        _text("source", self.source)
        _choice("confidence", self.confidence, CONFIDENCE_LEVELS)
        object.__setattr__(self, "min_m2_per_100_households", lo)
        object.__setattr__(self, "target_m2_per_100_households", hi)
        object.__setattr__(self, "household_size", size)

    def households(self, residents: _Num) -> _Num:
        """Households among ``residents`` (residents / household size)."""
        _check_population("residents", residents)
        return residents / self.household_size

    def required_area_m2(self, residents: _Num, *, level: Literal["min", "target"] = "min") -> _Num:
        """Floor area in m² the norm asks for ``residents`` (``level``: "min" or "target")."""
        _choice("level", level, ("min", "target"))
        per_100 = (
            self.min_m2_per_100_households if level == "min" else self.target_m2_per_100_households
        )
        return self.households(residents) / 100.0 * per_100

    def area_per_100_households(self, floor_area_m2: _Num, residents: _Num) -> _Num:
        """Floor area per 100 households that ``floor_area_m2`` gives ``residents`` (> 0)."""
        _check_population("floor_area_m2", floor_area_m2)
        _check_population("residents", residents, strictly_positive=True)
        return floor_area_m2 / self.households(residents) * 100.0


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """Outcome of :meth:`CompositeRule.check`: failed criteria (``reasons``) and advice
    (``notes``), in English and Chinese, with the function tags that were counted."""

    passed: bool
    reasons: tuple[str, ...]
    reasons_zh: tuple[str, ...]
    notes: tuple[str, ...]
    notes_zh: tuple[str, ...]
    functions: tuple[str, ...]
    floor_area_m2: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CompositeRule:
    """The rule for a community embedded service complex (社区嵌入式服务综合体).

    At least ``min_floor_area_m2`` (600 m²; 800 m² preferred, no upper limit), at least
    ``min_functions`` (3) distinct functions, of which at least ``min_core_functions`` (2) are
    core: elderly care, infant care, after-school care, meal aid.

    Examples
    --------
    >>> rule = CompositeRule()
    >>> rule.check(["nursery", "elderly_day_care_center", "health"], 650).passed
    True
    >>> check = rule.check(["infant_care", "culture", "sports"], 500)
    >>> check.passed, len(check.reasons)
    (False, 2)
    >>> check.reasons[0]
    'floor area 500 m² is below the minimum 600 m² for a composite complex'
    """

    min_floor_area_m2: float = 600.0
    preferred_floor_area_m2: float = 800.0
    min_functions: int = 3
    core_functions: tuple[FunctionTag, ...] = _CORE_FUNCTIONS
    min_core_functions: int = 2
    source: str = "城市社区嵌入式服务设施建设导则(试行) (NDRC/MOHURD/MNR, Jan 2024)"
    confidence: Confidence = "high"

    def __post_init__(self) -> None:
        lo = _number("min_floor_area_m2", self.min_floor_area_m2, positive=True)
        hi = _number("preferred_floor_area_m2", self.preferred_floor_area_m2, positive=True)
        if lo > hi:
            raise InputError(f"min_floor_area_m2 ({lo:g}) exceeds preferred_floor_area_m2 ({hi:g})")
        core = _strings("core_functions", self.core_functions)
        for tag in core:
            _choice("core_functions", tag, FUNCTION_TAGS)
        for name in ("min_functions", "min_core_functions"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"{name} must be a whole number >= 0, not {value!r}")
        if self.min_core_functions > len(core):
            raise InputError(
                f"min_core_functions ({self.min_core_functions}) exceeds the "
                f"{len(core)} core_functions {core}"
            )
        _text("source", self.source)
        _choice("confidence", self.confidence, CONFIDENCE_LEVELS)
        object.__setattr__(self, "min_floor_area_m2", lo)
        object.__setattr__(self, "preferred_floor_area_m2", hi)
        object.__setattr__(self, "core_functions", core)

    def check(
        self,
        functions: Iterable[str],
        floor_area_m2: float,
        *,
        standards: Standards | None = None,
    ) -> RuleCheck:
        """Check a planned complex.

        Parameters
        ----------
        functions
            Facility type keys or Chinese names (resolved through ``standards``) and/or
            function tags such as ``"meal_aid"``.
        floor_area_m2
            Total floor area of the complex in m².
        standards
            Registry that resolves type keys; :meth:`Standards.default` when None.

        Examples
        --------
        >>> CompositeRule().check(["托儿所", "community_canteen", "culture"], 800).passed
        True
        """
        std = Standards.default() if standards is None else standards
        area = _number("floor_area_m2", floor_area_m2)
        if area < 0:
            raise InputError(f"floor_area_m2 must be >= 0, not {floor_area_m2!r}")
        items = [functions] if isinstance(functions, str) else list(functions)
        tags: dict[str, None] = {}
        for item in items:
            if isinstance(item, str) and item in FUNCTION_TAGS:
                tags[item] = None
            elif isinstance(item, str) and item in std:
                tags.update(dict.fromkeys(std[item].functions))
            else:
                hint = _did_you_mean(item, [*FUNCTION_TAGS, *std.keys()]) or "."
                raise UnknownFacilityTypeError(
                    f"{item!r} is neither a function tag nor a facility type{hint} Function "
                    f"tags: {', '.join(FUNCTION_TAGS)}; types: {', '.join(std.keys())}"
                )
        found = tuple(tags)
        core = tuple(t for t in found if t in self.core_functions)
        fails: list[tuple[str, str]] = []
        advice: list[tuple[str, str]] = []
        lo, hi = self.min_floor_area_m2, self.preferred_floor_area_m2
        if area < lo:
            en = f"floor area {area:g} m² is below the minimum {lo:g} m² for a composite complex"
            fails.append((en, f"建筑面积{area:g}㎡低于综合体最低要求{lo:g}㎡"))
        elif area < hi:
            en = f"floor area {area:g} m² is below the {hi:g} m² preferred where conditions allow"
            advice.append((en, f"有条件的宜达到{hi:g}㎡"))
        if len(found) < self.min_functions:
            en = f"{len(found)} function(s) ({', '.join(found) or 'none'})"
            en += f"; at least {self.min_functions} are required"
            fails.append((en, f"仅有{len(found)}项功能，至少需要{self.min_functions}项"))
        if len(core) < self.min_core_functions:
            en = f"{len(core)} core function(s) ({', '.join(core) or 'none'}); at least "
            en += f"{self.min_core_functions} of {', '.join(self.core_functions)} are required"
            zh = f"仅有{len(core)}项核心功能，养老、托育、儿童托管、助餐中至少需要"
            fails.append((en, f"{zh}{self.min_core_functions}项"))
        if not {"elderly_care", "infant_care"} & set(found):
            en = "a complex should preferably include elderly care or infant care"
            advice.append((en, "宜优先配置养老或托育功能"))
        return RuleCheck(
            passed=not fails,
            reasons=tuple(en for en, _ in fails),
            reasons_zh=tuple(zh for _, zh in fails),
            notes=tuple(en for en, _ in advice),
            notes_zh=tuple(zh for _, zh in advice),
            functions=found,
            floor_area_m2=area,
        )


class Standards(Mapping[str, FacilityType]):
    """Immutable registry of facility types with the area norm and the composite rule.

    Look types up by key, Chinese name or alias; iteration yields keys in file order.

    Examples
    --------
    >>> std = Standards.default()
    >>> std["幼儿园"].walk_radius_m, len(std) >= 14
    (300.0, True)
    >>> std["kindergarden"]
    Traceback (most recent call last):
    ...
    embedsite.errors.UnknownFacilityTypeError: unknown facility type 'kindergarden'; did ...
    >>> list(std.select(["nursery", "小学"]))
    ['nursery', 'primary_school']
    """

    __slots__ = ("_area_norm", "_composite", "_names", "_types")

    def __init__(
        self,
        types: Iterable[FacilityType] = (),
        *,
        area_norm: AreaNorm | None = None,
        composite: CompositeRule | None = None,
    ) -> None:
        by_key: dict[str, FacilityType] = {}
        names: dict[str, str] = {}
        for ft in types:
            if not isinstance(ft, FacilityType):
                raise InputError(f"Standards holds FacilityType objects, not {type(ft).__name__}")
            if ft.key in by_key:
                raise InputError(f"facility type {ft.key!r} is given twice")
            by_key[ft.key] = ft
        for ft in by_key.values():
            short = re.split(r"[（(]", ft.name_zh, maxsplit=1)[0].strip()
            for name in dict.fromkeys((ft.name_zh, short, *ft.aliases)):
                owner = names.get(name, by_key[name].key if name in by_key else None)
                if owner is not None and owner != ft.key:
                    raise InputError(
                        f"name {name!r} of {ft.key!r} is already a name of {owner!r}; "
                        "names and aliases must be unique"
                    )
                names[name] = ft.key
        self._types: Mapping[str, FacilityType] = MappingProxyType(by_key)
        self._names: Mapping[str, str] = MappingProxyType(names)
        self._area_norm = AreaNorm() if area_norm is None else area_norm
        self._composite = CompositeRule() if composite is None else composite

    @classmethod
    def default(cls) -> Standards:
        """The national defaults shipped with embedsite (cached; immutable)."""
        return _default_standards()

    @property
    def area_norm(self) -> AreaNorm:
        """The per-100-households floor area norm in force."""
        return self._area_norm

    @property
    def composite(self) -> CompositeRule:
        """The composite-complex rule in force."""
        return self._composite

    def _resolve(self, name: object) -> str | None:
        if isinstance(name, str):
            if name in self._types:
                return name
            return self._names.get(name)
        return None

    def __getitem__(self, name: str) -> FacilityType:
        key = self._resolve(name)
        if key is None:
            known = ", ".join(self._types) or "(none)"
            hint = _did_you_mean(name, [*self._types, *self._names]) or "."
            raise UnknownFacilityTypeError(
                f"unknown facility type {name!r}{hint} Known types: {known}"
            )
        return self._types[key]

    def __contains__(self, name: object) -> bool:
        return self._resolve(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Standards):
            return NotImplemented
        mine, theirs = (
            (dict(self._types), self._area_norm, self._composite),
            (dict(other._types), other._area_norm, other._composite),
        )
        return mine == theirs

    def __repr__(self) -> str:
        n = self._area_norm
        return (
            f"Standards({len(self)} types: {', '.join(self._types)}; area norm "
            f"{n.min_m2_per_100_households:g}/{n.target_m2_per_100_households:g} m² per 100 "
            "households)"
        )

    def select(self, names: Iterable[str]) -> Standards:
        """A registry of only ``names`` (keys or Chinese names), in that order."""
        chosen = [self[n] for n in ([names] if isinstance(names, str) else names)]
        unique = {ft.key: ft for ft in chosen}.values()
        return Standards(unique, area_norm=self._area_norm, composite=self._composite)

    def check_composite(self, functions: Iterable[str], floor_area_m2: float) -> RuleCheck:
        """:meth:`CompositeRule.check` with this registry's rule and types."""
        return self._composite.check(functions, floor_area_m2, standards=self)

    def to_frame(self) -> pd.DataFrame:
        """One row per type: names, tier, radius, minutes, areas, norms, source, confidence.

        ``walk_minutes`` uses the elderly walking speed for types serving 60+
        (``walk_speed_mps`` shows which speed was used).

        Examples
        --------
        >>> df = Standards.default().to_frame()
        >>> float(df.loc["community_health_center", "walk_radius_m"])
        1000.0
        """
        cfg = get_config()
        rows = []
        for ft in self._types.values():
            speed = float(cfg["elderly_walk_speed_mps" if ft.serves_elderly else "walk_speed_mps"])
            row: dict[str, Any] = {}
            for name, value in ft.to_dict().items():
                row[name] = ", ".join(value) if isinstance(value, tuple) else value
                if name == "walk_radius_m":
                    row.update(walk_minutes=ft.walk_minutes(speed), walk_speed_mps=speed)
            rows.append(row)
        floats = [f.name for f in dataclasses.fields(FacilityType) if "float" in str(f.type)]
        return pd.DataFrame(rows).astype(dict.fromkeys(floats, float)).set_index("key")

    def to_toml(self) -> str:
        """The standards in force as a TOML file :func:`loads` reads back (see :func:`dumps`)."""
        return dumps(self)


@functools.cache
def _default_standards() -> Standards:
    text = resources.files("embedsite").joinpath(_DEFAULT_FILE).read_text(encoding="utf-8")
    return loads(text, base=Standards(), origin=f"embedsite/{_DEFAULT_FILE}")


_TOP_TABLES = ("types", "area_norm", "composite")
_TYPE_FIELDS = tuple(f.name for f in dataclasses.fields(FacilityType) if f.name != "key")
_REQUIRED_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(FacilityType)
    if f.default is dataclasses.MISSING and f.name != "key"
)
_AREA_FIELDS = tuple(f.name for f in dataclasses.fields(AreaNorm))
_COMPOSITE_FIELDS = tuple(f.name for f in dataclasses.fields(CompositeRule))


def _check_fields(where: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for name in table:
        if name not in known:
            raise InputError(
                f"{where}: unknown field {name!r}{_did_you_mean(name, known) or '.'} "
                f"Known fields: {', '.join(known)}"
            )


def _table(where: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a TOML table, not {value!r}")
    return value


def _check_area_norm_keys(where: str, table: dict[str, Any], base: AreaNorm) -> None:
    for name, value in table.items():
        if re.search(r"per_?100_?(residents|persons|people|population|capita)", name):
            level = "target" if name.startswith("target") else "min"
            size = table.get("household_size", base.household_size)
            try:
                fix = f"{level}_m2_per_100_households = {float(value) * float(size):g}"
            except (TypeError, ValueError):
                fix = f"{level}_m2_per_100_households = <value × {size}>"
            raise InputError(
                f"{where}: {name!r} is not accepted: the national norm is per 100 households "
                "(每百户居民), not per 100 residents. Convert: m² per 100 households = m² per "
                f"100 residents × household size ({size}), e.g. {fix}"
            )
    _check_fields(where, table, _AREA_FIELDS)


_T = TypeVar("_T", FacilityType, AreaNorm, CompositeRule)


def _replace(where: str, obj: _T, table: dict[str, Any]) -> _T:
    try:
        return dataclasses.replace(obj, **table)
    except InputError as exc:
        own = f"{obj.key}: " if isinstance(obj, FacilityType) else ""
        raise type(exc)(f"{where}: {str(exc).removeprefix(own)}") from exc


def _plain(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def loads(text: str, *, base: Standards | None = None, origin: str = "<string>") -> Standards:
    """Read standards from TOML text over ``base`` (the defaults when None).

    ``[types.<key>]`` tables override fields of an existing type (by key or Chinese name) or
    add a new type; optional ``[area_norm]`` and ``[composite]`` tables override those.
    Fields a city changes without a new ``source`` get a source naming ``origin``.

    Examples
    --------
    >>> std = loads('[types.kindergarten]\\nwalk_radius_m = 500')
    >>> std["kindergarten"].walk_radius_m
    500.0
    >>> std["kindergarten"].source.startswith("<string> (local override of walk_radius_m)")
    True
    """
    std = Standards.default() if base is None else base
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{origin} is not valid TOML: {exc}; fix the file there") from exc
    _check_fields(origin, doc, _TOP_TABLES)
    area_norm, composite = std.area_norm, std.composite
    if "area_norm" in doc:
        where = f"{origin} [area_norm]"
        table = _table(where, doc["area_norm"])
        _check_area_norm_keys(where, table, area_norm)
        area_norm = _replace(where, area_norm, table)
    if "composite" in doc:
        where = f"{origin} [composite]"
        table = _table(where, doc["composite"])
        _check_fields(where, table, _COMPOSITE_FIELDS)
        composite = _replace(where, composite, table)
    types = dict(std.items())
    for name, raw in _table(f"{origin} [types]", doc.get("types", {})).items():
        where = f"{origin} [types.{name}]"
        table = _table(where, raw)
        _check_fields(where, table, _TYPE_FIELDS)
        if name in std:
            old = std[name]
            if old.key in types and types[old.key] is not old:
                raise InputError(f"{where}: type {old.key!r} is overridden twice in this file")
            changed = [f for f, v in table.items() if _plain(v) != _plain(getattr(old, f))]
            if "source" not in table and changed:
                table["source"] = (
                    f"{origin} (local override of {', '.join(changed)}); "
                    f"other figures: {old.source}"
                )
            if "walk_radius_m" in changed and "is_default" not in table:
                table["is_default"] = False
            types[old.key] = _replace(where, old, table)
        else:
            missing = [f for f in _REQUIRED_FIELDS if f not in table]
            if missing:
                close = difflib.get_close_matches(name, list(std.keys()), n=1)
                hint = (
                    f" To override {close[0]!r}, name the table [types.{close[0]}]."
                    if close
                    else ""
                )
                raise InputError(
                    f"{where}: new facility type {name!r} lacks required field(s) "
                    f"{', '.join(missing)}; a new type needs {', '.join(_REQUIRED_FIELDS)}.{hint}"
                )
            try:
                types[name] = FacilityType(key=name, **table)
            except InputError as exc:
                raise type(exc)(f"{where}: {exc}") from exc
    try:
        return Standards(types.values(), area_norm=area_norm, composite=composite)
    except InputError as exc:
        raise InputError(f"{origin}: {exc}") from exc


def load(path: str | PathLike[str], *, base: Standards | None = None) -> Standards:
    """Read a city's standards file (TOML) over ``base`` (the national defaults when None).

    Examples
    --------
    >>> load("no/such/file.toml")
    Traceback (most recent call last):
    ...
    embedsite.errors.DataFileError: standards file not found: no/such/file.toml ...
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataFileError(
            f"standards file not found: {p} (absolute: {p.absolute()}); check the path"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"cannot read standards file {p}: {exc}") from exc
    return loads(text, base=base, origin=str(p))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")  # pragma: no cover - fields are typed


def dumps(standards: Standards) -> str:
    """The standards in force as TOML, every figure with its source and confidence.

    Examples
    --------
    >>> std = Standards.default()
    >>> loads(dumps(std), base=Standards()) == std
    True
    """
    lines = ["# embedsite standards in force (read back with embedsite.standards.load)"]
    sections: list[tuple[str, dict[str, Any]]] = [
        ("area_norm", dataclasses.asdict(standards.area_norm)),
        ("composite", dataclasses.asdict(standards.composite)),
    ]
    sections += [(f"types.{ft.key}", ft.to_dict()) for ft in standards.values()]
    for header, values in sections:
        lines += ["", f"[{header}]"]
        for name, value in values.items():
            if name == "key" or value is None or (name in ("aliases", "notes") and not value):
                continue
            lines.append(f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
