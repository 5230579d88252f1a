"""Delivery analytics over an :class:`groupkit.Archive`: pure functions, tidy frames.

Examples
--------
>>> from groupkit import analytics
>>> "deliveries" in analytics.__all__
True
"""

from groupkit.analytics.deliveries import DELIVERIES, STATES, deliveries

__all__ = ["DELIVERIES", "STATES", "deliveries"]
