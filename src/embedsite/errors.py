"""The exception and warning hierarchy of embedsite.

Every error raised on purpose by embedsite derives from :class:`EmbedsiteError`, and most
also derive from the matching builtin (``ValueError``, ``KeyError``, ``OSError``,
``RuntimeError``) so that code written against the builtins keeps working::

    EmbedsiteError(Exception)
     +- InputError(EmbedsiteError, ValueError)
     |   +- CRSError                 missing, geographic or mismatched coordinate reference systems
     |   +- CoordinateSystemError    GCJ-02/BD-09 offsets, swapped lat/lon, degrees used as metres
     |   +- MissingColumnError       a required column is absent
     |   +- EmptyInputError          no rows, no geometry, an empty network
     |   +- PopulationError          NaN, negative or non-numeric population
     +- UnknownFacilityTypeError(EmbedsiteError, KeyError)
     +- NetworkError(EmbedsiteError)
     |   +- DisconnectedNetworkError
     |   +- FarFromNetworkError
     +- DataFileError(EmbedsiteError, OSError)     broken or unreadable files, failed downloads
     +- SolverError(EmbedsiteError, RuntimeError)
         +- InfeasibleModelError

    EmbedsiteWarning(UserWarning)
     +- DataQualityWarning       something was filled, estimated or dropped and reported
     +- SolverTimeLimitWarning   a solver stopped at its time limit with a gap

A message says what is wrong, shows the offending values (the first few), and says how to
fix it.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "CoordinateSystemError",
    "DataFileError",
    "DataQualityWarning",
    "DisconnectedNetworkError",
    "EmbedsiteError",
    "EmbedsiteWarning",
    "EmptyInputError",
    "FarFromNetworkError",
    "InfeasibleModelError",
    "InputError",
    "MissingColumnError",
    "NetworkError",
    "PopulationError",
    "SolverError",
    "SolverTimeLimitWarning",
    "UnknownFacilityTypeError",
]


class EmbedsiteError(Exception):
    """Base class of every error embedsite raises on purpose."""


class InputError(EmbedsiteError, ValueError):
    """The data handed to embedsite is not what the call needs."""


class CRSError(InputError):
    """A CRS is missing, geographic where metres are needed, or mismatched."""


class CoordinateSystemError(InputError):
    """Coordinates look offset (GCJ-02/BD-09), swapped (lat/lon) or in the wrong unit."""


class MissingColumnError(InputError):
    """A required column is absent from a table."""


class EmptyInputError(InputError):
    """An input has no rows, no geometry, or a network has no edges."""


class PopulationError(InputError):
    """Population values are NaN, negative, infinite or not numeric."""


class UnknownFacilityTypeError(EmbedsiteError, KeyError):
    """A facility type is not known to the standards registry (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError would repr() the message; show it as written
        return str(self.args[0]) if self.args else ""


class NetworkError(EmbedsiteError):
    """The pedestrian network cannot serve the request."""


class DisconnectedNetworkError(NetworkError):
    """Places that must be connected by streets are not."""


class FarFromNetworkError(NetworkError, ValueError):
    """Points lie farther from every street than the allowed snapping distance."""


class DataFileError(EmbedsiteError, OSError):
    """A file is missing, broken or unreadable, or a download failed."""


class SolverError(EmbedsiteError, RuntimeError):
    """A location model could not be solved."""


class InfeasibleModelError(SolverError):
    """A location model has no feasible solution; the message names the cause."""


class EmbedsiteWarning(UserWarning):
    """Base class of every warning embedsite issues."""


class DataQualityWarning(EmbedsiteWarning):
    """Something in the data was filled, estimated or dropped (and reported)."""


class SolverTimeLimitWarning(EmbedsiteWarning):
    """A solver stopped at its time limit; the result carries its optimality gap."""
