"""Compiled kernels: numba's ``njit`` with the settings every kernel of embedsite shares.

The hot paths that numpy cannot express without a Python loop over nodes, segments or people
(a bounded Dijkstra from many snapped sources, the nearest-segment search of a snap, a
branch-and-bound node's bound) are written as small numba functions over plain arrays. They
are compiled on first use and cached on disk (``cache=True``: next to this package when it is
writable, else numba's user cache), so a new process pays the compilation once per machine,
not per call. ``nogil=True`` lets Dask's or a user's threads run them side by side. They never
use numba's parallel mode: one call, one core, like the numpy code around them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

__all__ = ["grow", "inline_kernel", "kernel"]

F = TypeVar("F", bound=Callable[..., Any])


def kernel(fn: F) -> F:
    """Compile ``fn`` with numba (``njit``, cached on disk, releasing the GIL)."""
    return cast(F, numba.njit(cache=True, nogil=True)(fn))


def inline_kernel(fn: F) -> F:
    """:func:`kernel`, inlined into every kernel that calls it (numba's ``inline="always"``,
    at the level of numba's IR): for the small steps of a hot loop, which numba would
    otherwise call through a function boundary."""
    return cast(F, numba.njit(cache=True, nogil=True, inline="always")(fn))


@kernel
def grow(a: Any, cap: int, used: int) -> Any:
    """A kernel's output buffer enlarged to ``cap`` entries, its first ``used`` kept."""
    out = np.empty(cap, a.dtype)
    out[:used] = a[:used]
    return out
