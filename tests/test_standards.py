"""Tests of embedsite.standards: default figures, lookups, city overrides, norms and rules."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedsite import config_context
from embedsite.errors import (
    DataFileError,
    EmbedsiteError,
    InputError,
    PopulationError,
    UnknownFacilityTypeError,
)
from embedsite.standards import (
    FUNCTION_TAGS,
    AreaNorm,
    CompositeRule,
    FacilityType,
    RuleCheck,
    Standards,
    dumps,
    load,
    loads,
)

REQUIRED_KEYS = [
    "nursery",
    "kindergarten",
    "elderly_day_care_center",
    "community_canteen",
    "community_health_station",
    "community_health_center",
    "after_school_care",
    "culture_activity_station",
    "small_multiuse_sports_field",
    "outdoor_fitness_ground",
    "community_service_station",
    "employment_service_station",
    "disability_service_station",
    "primary_school",
    "junior_middle_school",
]


@pytest.fixture(scope="session")
def std() -> Standards:
    return Standards.default()


def _write(tmp_path: Path, text: str, name: str = "city.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _type(**fields: object) -> FacilityType:
    base: dict[str, object] = {
        "key": "test_type",
        "name_zh": "测试设施",
        "name_en": "test facility",
        "tier": "5min",
        "walk_radius_m": 300.0,
        "age_group": "all",
        "functions": ("service",),
        "source": "test",
        "confidence": "low",
    }
    return FacilityType(**{**base, **fields})  # type: ignore[arg-type]


# --- default figures from /shared/standards/standards_facts.csv --------------------------------


def test_default_set_has_every_required_type(std: Standards) -> None:
    assert set(REQUIRED_KEYS) <= set(std.keys())
    assert len(std) == len(list(std)) >= len(REQUIRED_KEYS)


@pytest.mark.parametrize(
    ("key", "radius_m", "tier"),
    [
        ("kindergarten", 300.0, "5min"),
        ("nursery", 300.0, "5min"),
        ("elderly_day_care_center", 300.0, "5min"),
        ("community_service_station", 300.0, "5min"),
        ("culture_activity_station", 500.0, "5min"),
        ("primary_school", 500.0, "10min"),
        ("junior_middle_school", 1000.0, "15min"),
        ("community_health_center", 1000.0, "15min"),
        ("culture_activity_center", 1000.0, "15min"),
    ],
)
def test_radii_from_the_facts_file(std: Standards, key: str, radius_m: float, tier: str) -> None:
    ft = std[key]
    assert ft.walk_radius_m == radius_m
    assert ft.tier == tier
    assert not ft.is_default
    assert "GB 50180-2018" in ft.source


def test_areas_and_norms_from_the_facts_file(std: Standards) -> None:
    kg = std["kindergarten"]
    assert (kg.min_building_area_m2, kg.max_building_area_m2) == (3150.0, 4550.0)
    assert (kg.min_land_area_m2, kg.max_land_area_m2) == (5240.0, 7580.0)
    day = std["elderly_day_care_center"]
    assert (day.min_building_area_m2, day.max_building_area_m2) == (350.0, 750.0)
    assert std["community_health_station"].max_building_area_m2 == 270.0
    nursery = std["nursery"]
    assert nursery.capacity_per_1000 == 4.5
    assert nursery.capacity_unit == "places"
    assert nursery.capacity_norm_basis == "all"  # per 1000 of ALL residents, not of children
    assert nursery.age_group == "0-3"
    beds = std["nursing_home"]
    assert (beds.capacity_per_1000, beds.capacity_unit, beds.capacity_norm_basis) == (
        40.0,
        "beds",
        "60+",
    )


@pytest.mark.parametrize(
    "key",
    [
        "community_canteen",
        "employment_service_station",
        "disability_service_station",
        "after_school_care",
    ],
)
def test_figures_without_a_standard_are_marked_defaults(std: Standards, key: str) -> None:
    ft = std[key]
    assert ft.is_default
    assert ft.confidence == "low"
    assert ft.source.startswith("embedsite default:")
    assert ft.walk_radius_m in (300.0, 500.0, 1000.0)


def test_every_default_type_has_source_and_confidence(std: Standards) -> None:
    for ft in std.values():
        assert ft.source.strip()
        assert ft.confidence in ("high", "medium", "low")
        assert ft.name_zh and ft.name_en
        assert set(ft.functions) <= set(FUNCTION_TAGS)
        if ft.is_default:
            assert ft.source.startswith("embedsite default:")


def test_function_tags_of_the_core_types(std: Standards) -> None:
    assert std["nursery"].functions == ("infant_care",)
    assert std["elderly_day_care_center"].functions == ("elderly_care",)
    assert std["community_canteen"].functions == ("meal_aid",)
    assert std["after_school_care"].functions == ("after_school",)


def test_default_area_norm_and_composite(std: Standards) -> None:
    norm = std.area_norm
    assert norm.min_m2_per_100_households == 30.0
    assert norm.target_m2_per_100_households == 80.0
    assert norm.household_size == 2.62
    rule = std.composite
    assert rule.min_floor_area_m2 == 600.0
    assert rule.preferred_floor_area_m2 == 800.0
    assert rule.min_functions == 3
    assert rule.min_core_functions == 2
    assert set(rule.core_functions) == {"elderly_care", "infant_care", "after_school", "meal_aid"}
    # the dataclass defaults are the national figures too
    assert (AreaNorm().min_m2_per_100_households, AreaNorm().household_size) == (30.0, 2.62)
    assert CompositeRule().min_floor_area_m2 == 600.0


def test_data_file_is_package_data_and_one_table_per_type(std: Standards) -> None:
    text = resources.files("embedsite").joinpath("data/standards.toml").read_text("utf-8")
    doc = tomllib.loads(text)
    assert list(doc["types"]) == list(std.keys())
    for table in doc["types"].values():
        assert {"source", "confidence"} <= set(table)


def test_default_is_cached(std: Standards) -> None:
    assert Standards.default() is std


# --- walking time ----------------------------------------------------------------------------


def test_walk_minutes_uses_config_speeds(std: Standards) -> None:
    ft = std["elderly_day_care_center"]
    assert ft.walk_minutes() == pytest.approx(300 / 1.2 / 60)
    assert ft.walk_minutes(for_elderly=True) == pytest.approx(300 / 0.9 / 60)
    assert ft.walk_minutes(1.5) == pytest.approx(300 / 1.5 / 60)
    assert ft.serves_elderly and not std["kindergarten"].serves_elderly
    with config_context(walk_speed_mps=1.0):
        assert ft.walk_minutes() == pytest.approx(5.0)
    with pytest.raises(InputError, match="speed_mps must be > 0"):
        ft.walk_minutes(0)


def test_to_frame(std: Standards) -> None:
    df = std.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == list(std.keys())
    for col in ("name_zh", "name_en", "walk_radius_m", "walk_minutes", "source", "confidence"):
        assert col in df.columns
    assert df.loc["kindergarten", "name_zh"] == "幼儿园"
    assert df.loc["junior_middle_school", "walk_minutes"] == pytest.approx(1000 / 1.2 / 60)
    # types serving 60+ are timed at the elderly speed, and the frame says so
    assert df.loc["elderly_day_care_center", "walk_speed_mps"] == 0.9
    assert df.loc["nursery", "capacity_per_1000"] == 4.5
    assert df["min_building_area_m2"].isna()["primary_school"]
    assert df["walk_radius_m"].dtype == np.float64


# --- lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("幼儿园", "kindergarten"),
        ("小学", "primary_school"),
        ("托儿所", "nursery"),
        ("托儿所（托育机构）", "nursery"),
        ("托育机构", "nursery"),
        ("助餐点", "community_canteen"),
        ("社区卫生服务中心", "community_health_center"),
        ("儿童托管", "after_school_care"),
        ("就业服务站", "employment_service_station"),
    ],
)
def test_lookup_by_chinese_name(std: Standards, name: str, key: str) -> None:
    assert std[name].key == key
    assert name in std
    assert std.get(name) is std[key]


def test_unknown_key_names_the_closest_and_the_known(std: Standards) -> None:
    with pytest.raises(UnknownFacilityTypeError) as info:
        std["kindergarden"]
    message = str(info.value)
    assert message.startswith("unknown facility type 'kindergarden'; did you mean 'kindergarten'?")
    assert "Known types: nursery, kindergarten" in message
    assert isinstance(info.value, KeyError) and isinstance(info.value, EmbedsiteError)
    with pytest.raises(UnknownFacilityTypeError, match=r"unknown facility type 'zzz'\. Known"):
        std["zzz"]
    assert "zzz" not in std and 3 not in std
    assert std.get("zzz") is None


def test_select_and_mapping_behaviour(std: Standards) -> None:
    sub = std.select(["nursery", "小学", "nursery"])
    assert list(sub) == ["nursery", "primary_school"]
    assert sub.area_norm is std.area_norm and sub.composite is std.composite
    with pytest.raises(UnknownFacilityTypeError, match="did you mean 'nursery'"):
        std.select(["nursery", "nursry"])
    assert std == Standards.default() and sub != std
    with pytest.raises(TypeError):
        std["nursery"] = std["kindergarten"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        std["nursery"].walk_radius_m = 1.0  # type: ignore[misc]


def test_registry_rejects_duplicate_keys_and_names(std: Standards) -> None:
    with pytest.raises(InputError, match="given twice"):
        Standards([std["nursery"], std["nursery"]])
    clash = _type(key="other", name_zh="幼儿园")
    with pytest.raises(InputError, match="already a name of 'kindergarten'"):
        Standards([std["kindergarten"], clash])


# --- FacilityType validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        ({"walk_radius_m": 0}, "walk_radius_m must be > 0"),
        ({"walk_radius_m": -5.0}, "walk_radius_m must be > 0"),
        ({"walk_radius_m": "300"}, "walk_radius_m must be a finite number"),
        ({"walk_radius_m": float("nan")}, "walk_radius_m must be a finite number"),
        ({"tier": "20min"}, "tier must be one of '5min', '10min', '15min', 'community'"),
        ({"age_group": "60"}, "did you mean '60+'"),
        ({"confidence": "certain"}, "confidence must be one of 'high', 'medium', 'low'"),
        ({"capacity_unit": "place"}, "capacity_unit must be one of"),
        ({"functions": ("elder_care",)}, "did you mean 'elderly_care'"),
        ({"functions": ()}, "functions must name at least one"),
        ({"functions": "health"}, "functions must be a list of strings"),
        ({"min_building_area_m2": 500.0, "max_building_area_m2": 400.0}, "is greater than"),
        ({"min_land_area_m2": 900.0, "max_land_area_m2": 100.0}, "min_land_area_m2 (900)"),
        ({"capacity_per_1000": 4.5}, "capacity_per_1000 needs capacity_unit"),
        ({"capacity_norm_basis": "all"}, "capacity_per_1000 is not"),
        ({"key": "Kinder Garten"}, "key must be lower-case ASCII"),
        ({"key": "health"}, "is a function tag"),
        ({"name_zh": ""}, "name_zh must be a non-empty string"),
        ({"is_default": "yes"}, "is_default must be true or false"),
    ],
)
def test_facility_type_rejects_bad_values(fields: dict[str, object], phrase: str) -> None:
    with pytest.raises(InputError, match=re.escape(phrase)):
        _type(**fields)


def test_facility_type_normalises_numbers_and_lists() -> None:
    ft = _type(walk_radius_m=400, functions=["health", "health"], aliases=["测试"])
    assert ft.walk_radius_m == 400.0 and isinstance(ft.walk_radius_m, float)
    assert ft.functions == ("health",)
    assert ft.aliases == ("测试",)
    assert hash(ft) == hash(_type(walk_radius_m=400.0, functions=("health",), aliases=("测试",)))


# --- the area norm ---------------------------------------------------------------------------


def test_area_norm_real_values() -> None:
    norm = AreaNorm()
    assert norm.households(2620) == pytest.approx(1000.0)
    assert norm.required_area_m2(2620) == pytest.approx(300.0)  # 1000 households x 30/100
    assert norm.required_area_m2(2620, level="target") == pytest.approx(800.0)
    assert norm.area_per_100_households(300.0, 2620) == pytest.approx(30.0)
    arr = norm.required_area_m2(np.array([0.0, 2620.0, 5240.0]))
    np.testing.assert_allclose(arr, [0.0, 300.0, 600.0])
    series = norm.required_area_m2(pd.Series([2620.0], index=["a"]))
    assert list(series.index) == ["a"]


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        ({"min_m2_per_100_households": 400.0, "target_m2_per_100_households": 500.0}, "> 300"),
        ({"target_m2_per_100_households": 800.0}, "implausible"),
        ({"min_m2_per_100_households": 90.0}, "is greater than target"),
        ({"min_m2_per_100_households": 0.0}, "must be > 0"),
        ({"household_size": 0.38}, "persons per household, between 1 and 6"),
        ({"household_size": 100.0}, "between 1 and 6"),
        ({"confidence": "sure"}, "confidence must be one of"),
    ],
)
def test_area_norm_rejects_implausible_values(fields: dict[str, float], phrase: str) -> None:
    with pytest.raises(InputError, match=phrase):
        AreaNorm(**fields)  # type: ignore[arg-type]


def test_area_norm_rejects_bad_population() -> None:
    norm = AreaNorm()
    with pytest.raises(PopulationError, match="bad values"):
        norm.required_area_m2(-1.0)
    with pytest.raises(PopulationError):
        norm.required_area_m2(np.array([1.0, np.nan]))
    with pytest.raises(PopulationError, match="must be finite and > 0"):
        norm.area_per_100_households(100.0, 0.0)
    with pytest.raises(InputError, match="level must be one of 'min', 'target'"):
        norm.required_area_m2(100.0, level="max")  # type: ignore[arg-type]


residents_st = st.floats(min_value=1.0, max_value=1e7, allow_nan=False, allow_infinity=False)
size_st = st.floats(min_value=1.0, max_value=6.0)
norm_st = st.floats(min_value=1.0, max_value=300.0)


@given(a=residents_st, b=residents_st, k=st.floats(min_value=0.0, max_value=100.0))
def test_required_area_is_linear_in_residents(a: float, b: float, k: float) -> None:
    norm = AreaNorm()
    for level in ("min", "target"):
        f = norm.required_area_m2
        assert f(a + b, level=level) == pytest.approx(f(a, level=level) + f(b, level=level))
        assert f(k * a, level=level) == pytest.approx(k * f(a, level=level), rel=1e-9, abs=1e-9)
    assert norm.required_area_m2(0.0) == 0.0


@given(residents=residents_st, size=size_st, lo=norm_st, extra=st.floats(0.0, 200.0))
def test_required_area_round_trips_through_area_per_100_households(
    residents: float, size: float, lo: float, extra: float
) -> None:
    hi = min(lo + extra, 300.0)
    norm = AreaNorm(
        min_m2_per_100_households=lo, target_m2_per_100_households=hi, household_size=size
    )
    for level, value in (("min", lo), ("target", hi)):
        area = norm.required_area_m2(residents, level=level)  # type: ignore[arg-type]
        assert norm.area_per_100_households(area, residents) == pytest.approx(value)


# --- the composite rule ----------------------------------------------------------------------


def test_composite_passes_with_three_functions_two_core(std: Standards) -> None:
    check = std.check_composite(["nursery", "elderly_day_care_center", "culture"], 600.0)
    assert isinstance(check, RuleCheck)
    assert check.passed and check.reasons == () and check.reasons_zh == ()
    assert set(check.functions) == {"infant_care", "elderly_care", "culture"}
    assert any("800" in note for note in check.notes)  # below the preferred size: advice only


def test_composite_passes_at_preferred_size_without_notes() -> None:
    check = CompositeRule().check(["托儿所", "助餐点", "after_school", "health"], 1200)
    assert check.passed and check.notes == ()


@pytest.mark.parametrize(
    ("functions", "area", "phrases"),
    [
        (["nursery", "elderly_day_care_center", "culture"], 599.0, ["below the minimum 600"]),
        (["nursery", "elderly_day_care_center"], 900.0, ["2 function(s)", "at least 3"]),
        (["nursery", "culture", "sports", "health"], 900.0, ["1 core function(s)"]),
        (["culture", "sports", "health"], 300.0, ["below the minimum", "0 core function(s)"]),
        # two types with the same function count once
        (["nursery", "托育机构", "kindergarten", "community_canteen"], 700.0, []),
        (["nursing_home", "elderly_day_care_center", "culture"], 700.0, ["1 core"]),
    ],
)
def test_composite_fails_on_hand_made_cases(
    functions: list[str], area: float, phrases: list[str]
) -> None:
    check = CompositeRule().check(functions, area)
    assert check.passed is (not phrases)
    text = " | ".join(check.reasons)
    for phrase in phrases:
        assert phrase in text
    assert len(check.reasons_zh) == len(check.reasons)


def test_composite_wording_in_chinese() -> None:
    check = CompositeRule().check(["culture"], 100.0)
    assert not check.passed
    assert any("600㎡" in r for r in check.reasons_zh)
    assert any("养老、托育、儿童托管、助餐" in r for r in check.reasons_zh)
    assert "宜优先配置养老或托育功能" in check.notes_zh


def test_composite_rejects_unknown_items_and_bad_area() -> None:
    with pytest.raises(UnknownFacilityTypeError, match="did you mean 'meal_aid'"):
        CompositeRule().check(["meal_aide"], 700.0)
    with pytest.raises(InputError, match="floor_area_m2 must be >= 0"):
        CompositeRule().check(["nursery"], -1.0)


def test_composite_rule_validation() -> None:
    with pytest.raises(InputError, match="exceeds preferred_floor_area_m2"):
        CompositeRule(min_floor_area_m2=900.0)
    with pytest.raises(InputError, match="did you mean 'infant_care'"):
        CompositeRule(core_functions=("infant",))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="min_core_functions \\(5\\) exceeds"):
        CompositeRule(min_core_functions=5)


# --- a city's own file -----------------------------------------------------------------------


def test_load_overrides_a_radius_and_adds_a_type(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[types.kindergarten]
walk_radius_m = 500

[types."社区食堂（助餐点）"]
walk_radius_m = 500
source = "Shenzhen 2024 local standard"
confidence = "high"

[types.senior_university]
name_zh = "老年大学"
name_en = "university for the elderly"
tier = "15min"
walk_radius_m = 1000
age_group = "60+"
functions = ["elderly_care", "culture"]
source = "city plan 2025"
confidence = "medium"

[area_norm]
min_m2_per_100_households = 40

[composite]
min_floor_area_m2 = 700
""",
    )
    base = Standards.default()
    city = load(path)
    kg = city["kindergarten"]
    assert kg.walk_radius_m == 500.0
    assert kg.min_building_area_m2 == base["kindergarten"].min_building_area_m2
    assert kg.source.startswith(f"{path} (local override of walk_radius_m)")
    canteen = city["community_canteen"]
    assert canteen.walk_radius_m == 500.0 and not canteen.is_default
    assert canteen.source == "Shenzhen 2024 local standard"
    new = city["老年大学"]
    assert new.key == "senior_university" and new.walk_radius_m == 1000.0
    assert list(city)[-1] == "senior_university"
    assert city.area_norm.min_m2_per_100_households == 40.0
    assert city.area_norm.target_m2_per_100_households == 80.0
    assert city.composite.min_floor_area_m2 == 700.0
    assert base["kindergarten"].walk_radius_m == 300.0  # the defaults are untouched
    assert Standards.default() == base


def test_load_over_an_explicit_base(tmp_path: Path, std: Standards) -> None:
    path = _write(tmp_path, "[types.nursery]\ncapacity_per_1000 = 6.0\n")
    city = load(path, base=std.select(["nursery"]))
    assert list(city) == ["nursery"]
    assert city["nursery"].capacity_per_1000 == 6.0


@pytest.mark.parametrize(
    ("text", "error", "phrase"),
    [
        (
            "[types.kindergarten]\nwalk_radius = 500\n",
            InputError,
            "unknown field 'walk_radius'; did you mean 'walk_radius_m'? Known fields:",
        ),
        (
            "[types.nursery]\ncapacity_unit = 'place'\n",
            InputError,
            "capacity_unit must be one of 'places', 'beds', 'seats', 'm2', not 'place'; "
            "did you mean 'places'?",
        ),
        ("[types.primary_school]\ntier = '10 min'\n", InputError, "did you mean '10min'"),
        ("[types.primary_school]\nage_group = '6-11'\n", InputError, "did you mean '6-12'"),
        ("[typez.nursery]\ntier = '5min'\n", InputError, "unknown field 'typez'"),
        ("[composite]\nmin_area = 600\n", InputError, "Known fields: min_floor_area_m2"),
        (
            "[types.youth_centre]\nname_zh = '青少年活动中心'\n",
            InputError,
            "new facility type 'youth_centre' lacks required field(s) name_en, tier",
        ),
        (
            "[types.kindergarden]\nwalk_radius_m = 400\n",
            InputError,
            "To override 'kindergarten', name the table [types.kindergarten]",
        ),
        (
            "[area_norm]\nmin_m2_per_100_residents = 11.45\n",
            InputError,
            "per 100 households (每百户居民), not per 100 residents. Convert: m² per 100 "
            "households = m² per 100 residents × household size (2.62), "
            "e.g. min_m2_per_100_households = 29.999",
        ),
        (
            "[area_norm]\ntarget_m2_per_100_residents = 30\n",
            InputError,
            "target_m2_per_100_households = 78.6",
        ),
        ("[area_norm]\ntarget_m2_per_100_households = 800\n", InputError, "implausible"),
        ("[area_norm]\nhousehold_size = 262\n", InputError, "between 1 and 6"),
        ("[types.kindergarten]\nwalk_radius_m = -1\n", InputError, "walk_radius_m must be > 0"),
    ],
)
def test_load_rejects_bad_files(
    tmp_path: Path, text: str, error: type[Exception], phrase: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(error) as info:
        load(path)
    assert phrase in str(info.value)
    assert str(path) in str(info.value)


def test_load_new_type_clashing_with_a_default_name(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[types.preschool]
name_zh = "幼儿园"
name_en = "preschool"
tier = "5min"
walk_radius_m = 300
age_group = "3-6"
functions = ["education"]
source = "test"
confidence = "low"
""",
    )
    with pytest.raises(InputError, match="already a name of 'kindergarten'") as info:
        load(path)
    assert str(path) in str(info.value)


def test_load_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "[types.kindergarten]\nwalk_radius_m = 500\ntier = 5min\n")
    with pytest.raises(DataFileError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message and "not valid TOML" in message
    assert "line 3" in message
    assert isinstance(info.value, OSError)


def test_load_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(DataFileError, match="standards file not found") as info:
        load(missing)
    assert "nope.toml" in str(info.value)


def test_load_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes("name_zh = '\u5e7c'".encode("gb18030"))
    with pytest.raises(DataFileError, match="cannot read standards file"):
        load(path)


def test_override_same_type_twice_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[types.kindergarten]\nwalk_radius_m = 400\n[types."幼儿园"]\nwalk_radius_m = 500\n',
    )
    with pytest.raises(InputError, match="overridden twice"):
        load(path)


# --- export ----------------------------------------------------------------------------------


def test_dumps_round_trips(tmp_path: Path, std: Standards) -> None:
    text = dumps(std)
    assert "[types.kindergarten]" in text and "confidence = " in text
    assert loads(text, base=Standards()) == std
    path = _write(tmp_path, std.to_toml(), "export.toml")
    assert load(path, base=Standards()) == std
    city = loads("[types.kindergarten]\nwalk_radius_m = 450\n")
    assert loads(dumps(city), base=Standards()) == city
