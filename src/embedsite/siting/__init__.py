"""Facility siting models (stage 4)."""
