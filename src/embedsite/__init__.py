"""embedsite: plan community embedded service facilities on real pedestrian networks.

The pipeline runs one way: ``network`` (OpenStreetMap to a projected pedestrian graph),
``standards``/``demand``/``facilities`` (what must be reached, by whom, from where),
``coverage``, ``siting``, ``scoring``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from embedsite import (
    batch,
    candidates,
    coverage,
    crs,
    demand,
    errors,
    facilities,
    network,
    scoring,
    siting,
    standards,
)
from embedsite._config import config_context, get_config, set_config
from embedsite.candidates import Candidates
from embedsite.coverage import Coverage
from embedsite.demand import Demand
from embedsite.facilities import Facilities
from embedsite.network import PedestrianNetwork, WalkFilter
from embedsite.standards import FacilityType, Standards

try:
    __version__ = version("embedsite")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Candidates",
    "Coverage",
    "Demand",
    "Facilities",
    "FacilityType",
    "PedestrianNetwork",
    "Standards",
    "WalkFilter",
    "__version__",
    "batch",
    "candidates",
    "config_context",
    "coverage",
    "crs",
    "demand",
    "errors",
    "facilities",
    "get_config",
    "network",
    "scoring",
    "set_config",
    "siting",
    "standards",
]
