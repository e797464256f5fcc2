"""Stage 4: where to put new facilities, keeping the existing ones.

One class per model, scikit-learn style (``__init__`` stores parameters, a constructor binds
data, :meth:`~embedsite.siting.base.SitingModel.solve` returns a new frozen, verified
:class:`SitingResult`):

* :class:`LSCP`: the fewest or cheapest new sites so every resident is within the radius;
* :class:`MCLP`: the most residents newly covered with ``p`` sites or within a budget
  (capacitated with ``capacity=``);
* :class:`PMedian`: the least total walk with ``p`` new sites (capacitated with
  ``capacity=``);
* :class:`PCenter`: the least worst walk with ``p`` new sites;
* :class:`CompositePlan`: several facility types at once, each chosen site hosting a set of
  functions that fits its floor area, composite complexes (一站式) against scattered "插花"
  single-function sites for the same budget.

Existing facilities are fixed and count: new sites only close the remaining gap. Exact
solving is HiGHS (through highspy), heuristics are for instances too large to prove.
"""

from __future__ import annotations

from embedsite.siting._problem import SitingProblem
from embedsite.siting.composite import CompositeComparison, CompositePlan, CompositeResult
from embedsite.siting.lscp import LSCP
from embedsite.siting.mclp import MCLP
from embedsite.siting.pcenter import PCenter
from embedsite.siting.pmedian import PMedian
from embedsite.siting.result import SitingResult

__all__ = [
    "LSCP",
    "MCLP",
    "CompositeComparison",
    "CompositePlan",
    "CompositeResult",
    "PCenter",
    "PMedian",
    "SitingProblem",
    "SitingResult",
]
