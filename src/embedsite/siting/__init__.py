"""Facility-siting models (LSCP, MCLP, p-median, p-center) on walk-distance cost matrices."""
