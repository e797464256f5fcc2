"""Validated options with a context manager (no mutable module globals leak between threads).

>>> import embedsite
>>> embedsite.get_config()["progress"]
'auto'
>>> with embedsite.config_context(progress=False):
...     embedsite.get_config()["progress"]
False
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DEFAULTS: dict[str, Any] = {
    # show tqdm progress bars on long work: True, False, or "auto" (only when stderr is a tty)
    "progress": "auto",
    # walking speed used to turn metres into minutes (1.2 m/s ~ 72 m/min, adults)
    "walk_speed_mps": 1.2,
    # slower walking speed for elderly residents (0.9 m/s)
    "elderly_walk_speed_mps": 0.9,
}

_config: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "embedsite_config", default=_DEFAULTS
)


def _check(key: str, value: Any) -> None:
    if key not in _DEFAULTS:
        known = ", ".join(sorted(_DEFAULTS))
        raise ValueError(f"unknown embedsite option {key!r}; known options: {known}")
    if key == "progress" and value not in (True, False, "auto"):
        raise ValueError(f"option 'progress' must be True, False or 'auto', not {value!r}")
    if key.endswith("_mps") and not (isinstance(value, int | float) and 0 < value < 5):
        raise ValueError(f"option {key!r} is a walking speed in m/s between 0 and 5, not {value!r}")


def get_config() -> dict[str, Any]:
    """Return a copy of the options in force."""
    return dict(_config.get())


def set_config(**options: Any) -> None:
    """Set options for the current context (thread or task)."""
    for key, value in options.items():
        _check(key, value)
    _config.set({**_config.get(), **options})


@contextmanager
def config_context(**options: Any) -> Iterator[None]:
    """Temporarily set options, restoring the previous ones on exit."""
    for key, value in options.items():
        _check(key, value)
    token = _config.set({**_config.get(), **options})
    try:
        yield
    finally:
        _config.reset(token)


def show_progress() -> bool:
    """Whether long work should draw a progress bar now."""
    import sys

    value = _config.get()["progress"]
    if value == "auto":
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(value)
