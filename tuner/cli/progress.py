"""A rich progress bar over trials: elapsed time, ETA and the best objective so far."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class TrialProgress:
    """Draws one bar for the whole search; used as the search's listener."""

    def __init__(self, console: Console, objective: str) -> None:
        self.objective = objective
        self.progress = Progress(
            TextColumn("[bold]trials"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[best]}"),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("search", total=None, best="")

    def __enter__(self) -> TrialProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.stop()

    def started(self, total: int | None, done: int) -> None:
        """Size the bar, counting trials a resumed run already has."""
        self.progress.update(self.task, total=total, completed=min(done, total or done))

    def trial_finished(self, trial_id: str, status: str, score: float | None, best: float | None) -> None:
        """Advance the bar and show the best objective so far."""
        shown = f"best {self.objective} {best:.4g}" if best is not None else ""
        self.progress.update(self.task, advance=1, best=shown)
