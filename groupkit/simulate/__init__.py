"""Simulated group webhook archives with the ground truth they were generated from.

:mod:`groupkit.simulate.model` holds the behavioural model (pure functions the local
API sandbox reuses); :func:`simulate_archive` writes a whole archive.
"""
