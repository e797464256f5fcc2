"""A mixed-integer program handed to HiGHS in one piece through highspy (private).

Models build their constraint matrix as a scipy sparse matrix and call :func:`solve_mip`;
the model goes to HiGHS with ``passModel`` (column-wise CSC arrays), never row by row from
Python and never through a modelling layer such as PuLP.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from embedsite.errors import SolverError

__all__ = ["MipOutcome", "new_highs", "solve_mip"]

log = logging.getLogger(__name__)


@functools.cache
def _silence_banner() -> None:
    """Create the process's first ``Highs`` with the C-level stdout muted.

    HiGHS prints its name and licence to stdout when the first solver object of a process is
    made, whatever ``output_flag`` says; a library must not write to the caller's stdout
    (the CLI's tables, a notebook's cells), so that first object is made here, once, with
    file descriptor 1 pointed at the null device.
    """
    import highspy

    # the C library writes to descriptor 1 whatever sys.stdout is: in a Jupyter kernel
    # sys.stdout.fileno() is a copy of the terminal while fd 1 is the pipe into the cell
    fd = 1
    if sys.stdout is not None:
        sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            highspy.Highs()
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def new_highs(**options: Any) -> Any:
    """A quiet ``highspy.Highs`` with ``options`` set (``output_flag`` off by default).

    Every embedsite model makes its solver here. No model sets ``threads``: HiGHS keeps one
    thread scheduler per process and refuses to run a model asking for another thread count
    than the first one made (``resetGlobalScheduler``), so one model setting it would break
    every later solve of another in the same process.
    """
    import highspy

    with contextlib.suppress(OSError):
        _silence_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    return h


@dataclass(frozen=True)
class MipOutcome:
    """What HiGHS returned: ``x`` (None when it found no solution), the objective (in the
    model's sense, offset included), the proven bound, ``status`` ("optimal", "time_limit",
    "infeasible") and the wall time."""

    x: np.ndarray | None
    objective: float
    bound: float
    status: str
    runtime_s: float
    nodes: int


def solve_mip(
    c: np.ndarray,
    A: sparse.sparray | sparse.spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    *,
    maximize: bool = False,
    offset: float = 0.0,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    start: np.ndarray | None = None,
    abs_gap: float | None = None,
) -> MipOutcome:
    """Solve ``min/max c x + offset`` s.t. ``row_lower <= A x <= row_upper``, bounds, integers.

    ``start`` is a feasible point given to HiGHS as its first incumbent. ``abs_gap`` lets
    HiGHS stop once the absolute gap is below it (just under 1 proves optimality when every
    feasible objective is an integer).
    """
    import highspy

    t0 = time.perf_counter()
    n_col = len(c)
    csc = sparse.csc_array(A, dtype=float)
    csc.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = int(csc.shape[0])
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(col_lower, dtype=float)
    lp.col_upper_ = np.asarray(col_upper, dtype=float)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf).astype(float)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf).astype(float)
    lp.offset_ = float(offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    kinds = np.where(np.asarray(integer, dtype=bool), 1, 0)
    if kinds.any():
        lp.integrality_ = [highspy.HighsVarType(int(k)) for k in kinds]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h = new_highs(random_seed=0)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    if abs_gap is not None:
        h.setOptionValue("mip_abs_gap", float(abs_gap))
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model (passModel failed); this is a bug in embedsite")
    if start is not None and kinds.any():
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float)
        h.setSolution(sol)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_x else None
    S = highspy.HighsModelStatus
    if model_status == S.kOptimal:
        state = "optimal"
    elif model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        state = "infeasible"
    elif model_status in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit, S.kSolutionLimit):
        state = "time_limit"
    else:
        raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(model_status)!r}")
    if kinds.any():
        bound = float(info.mip_dual_bound)
    else:
        bound = float(info.objective_function_value) if has_x else np.nan
    objective = float(info.objective_function_value) if has_x else np.nan
    if start is not None and x is not None:
        value = float(np.dot(c, x)) + float(offset)
        if abs(value - objective) > 1e-6 * max(1.0, abs(objective)):
            # HiGHS 1.16 can report a better objective than the start yet hand back the start
            # given to setSolution as its solution (seen on small set covers that presolve
            # solves): the x is not that objective's, so solve again without the start
            log.debug("HiGHS returned the start (%s) for objective %s; re-solving", value,
                      objective)  # fmt: skip
            return solve_mip(
                c, A, row_lower, row_upper, col_lower, col_upper, integer, maximize=maximize,
                offset=offset, time_limit=time_limit, mip_gap=mip_gap, start=None,
                abs_gap=abs_gap,
            )  # fmt: skip
    runtime = time.perf_counter() - t0
    log.debug("HiGHS: %s, objective %s, bound %s, %.3f s", state, objective, bound, runtime)
    return MipOutcome(x, objective, bound, state, runtime, int(getattr(info, "mip_node_count", 0)))
