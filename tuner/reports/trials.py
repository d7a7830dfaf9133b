"""A run's trials as one typed value: the table plus what ranking and showing it needs.

The objective, its direction and the tuned hyperparameters travel as typed fields next to the frame, not in
the frame's metadata dictionary, which pandas marks experimental and drops in many operations: lost, a
ranking would have had to guess the direction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd

Direction = Literal["min", "max"]


@dataclass(frozen=True)
class Trials:
    """One row per trial (``frame``), the ``objective`` it is ranked by, whether lower or higher is better, and
    the names of the hyperparameters the search varies (their columns are ``hp_<name>``)."""

    frame: pd.DataFrame
    objective: str
    direction: Direction
    tuned: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.direction not in get_args(Direction):
            raise ValueError(f"direction must be 'min' or 'max', not {self.direction!r}")

    def with_frame(self, frame: pd.DataFrame) -> Trials:
        """The same run's trials with another table (ranked, filtered), keeping objective, direction and tuned."""
        return dataclasses.replace(self, frame=frame)
