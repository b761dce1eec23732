"""A cancel flag that says why a run stopped, so a planned stop is not stored as a user's cancel."""
from __future__ import annotations

import threading


class RunStop(threading.Event):
    """Set it to stop a run. `planned` stops (steady state reached, hopeless tuning trial) end the run as
    `done` with the reason recorded in its conditions; anything else is a user cancel."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = "cancelled by the user"
        self.planned = False

    def stop(self, reason: str, planned: bool = True) -> None:
        self.reason, self.planned = reason, planned
        self.set()
