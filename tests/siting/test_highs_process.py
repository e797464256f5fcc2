"""HiGHS in one process: models solved one after another, and nothing on stdout.

Each check runs in a fresh interpreter: HiGHS keeps one thread scheduler per process (a model
asking for another thread count than the first one made used to end with status 'Not Set'),
and prints its licence banner when the first solver of a process is made.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from embedsite.siting import MCLP, PMedian, CompositePlan

    cost = np.array([[100.0, 900.0, 400.0], [150.0, 900.0, 200.0], [900.0, 100.0, 250.0]])
    first = MCLP.from_cost_matrix(cost, radius=300, p=1).solve()
    reach = {"nursery": np.array([[1, 1, 0], [0, 0, 1], [0, 1, 1]], dtype=bool)}
    plan = CompositePlan.from_arrays(
        reach, np.ones((3, 1)), np.array([300.0, 300.0, 300.0]), p=1
    ).solve()
    median = PMedian.from_cost_matrix(cost, p=1).solve()
    print("RESULT", first.objective, plan.objective, median.objective)
    """
)


def test_models_one_after_another_in_a_fresh_process_and_quiet_stdout() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1].split()[0] == "RESULT"
    mclp, composite, median = (float(x) for x in lines[-1].split()[1:])
    assert mclp == 2.0  # site 0 covers clients 0 and 1 within 300 m
    assert composite == 2.0  # site 0 or 2 reaches two of the three clients
    assert median == 850.0  # site 2: 400 + 200 + 250 (site 0: 100 + 150 + 900 = 1150)
    assert "HiGHS" not in out.stdout  # no licence banner on the caller's stdout
