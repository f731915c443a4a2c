"""Bring the analytics tables up to date before a console page is computed.

The events of Rasa's broker become analytics rows in :mod:`bot.analytics.projector` (built
alongside the console). This is the ONE place the console calls it: when that module is absent
(a checkout without the pipeline), the console reads the tables as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

try:  # The pipeline may not be installed in this checkout: the console still works on the tables.
    from bot.analytics.projector import project_pending as _project_pending
except ImportError:
    _project_pending = None

project_pending: Callable[[], int] | None = _project_pending


def refresh() -> int:
    """Project pending events (0 when there is no projector); an error is logged, never raised."""
    if project_pending is None:
        return 0
    try:
        return int(project_pending())
    except Exception:  # a page shows the figures it has rather than an error
        logger.exception("analytics projection failed: the console shows the figures already projected")
        return 0
