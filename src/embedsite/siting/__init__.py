"""Facility siting models (stage 4)."""

from embedsite.siting.composite import CompositeComparison, CompositePlan, CompositeResult

__all__ = ["CompositeComparison", "CompositePlan", "CompositeResult"]
