"""What a search tells whoever watches it (a progress bar, or nobody)."""

from __future__ import annotations

from typing import Protocol


class Listener(Protocol):
    """Told how the search advances, e.g. to draw a progress bar."""

    def started(self, total: int | None, done: int) -> None: ...

    def trial_finished(self, trial_id: str, status: str, score: float | None, best: float | None) -> None: ...


class SilentListener:
    """A listener that shows nothing, for library use."""

    def started(self, total: int | None, done: int) -> None:
        """Nothing to show."""

    def trial_finished(self, trial_id: str, status: str, score: float | None, best: float | None) -> None:
        """Nothing to show."""
