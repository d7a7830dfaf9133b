"""keras-tuner's on-disk state made crash-safe, so a killed search resumes where it stopped.

keras-tuner writes its JSON state in place and restores only part of it: a kill can leave half a file,
a trial that ``oracle.json`` never heard of, or (for grid search) an oracle that forgot its position.
These classes keep keras-tuner's own oracles and tuners and only change how their state is saved
and reloaded.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import keras_tuner
from keras_tuner.src.tuners.gridsearch import LinkedList

from tuner.rundir import files


class DurableOracle:
    """Mixed in front of a keras-tuner oracle: atomic saves and a reload that re-runs what was interrupted."""

    def save(self) -> None:
        files.write_json(Path(self._get_oracle_fname()), self.get_state())

    def _save_trial(self, trial: Any) -> None:
        files.write_json(Path(self._get_trial_dir(trial.trial_id)) / "trial.json", trial.get_state())

    def _check_consecutive_failures(self) -> None:
        # keras-tuner raises here, before the failed trial is saved; the tuner stops the search after saving.
        return None

    def reload(self) -> None:
        # keras-tuner's reload already queues the trials that were running for a re-run.
        super().reload()
        drop_unstarted_trials(self)
        if isinstance(self, keras_tuner.oracles.GridSearchOracle):
            restore_grid_position(self)


def drop_unstarted_trials(oracle: Any) -> None:
    """Forget trials whose ``trial.json`` was saved but whose creation ``oracle.json`` never recorded.

    A kill between those two writes leaves such a trial; it is created again, with the same id and values.
    """
    for trial_id in [trial_id for trial_id in oracle.trials if trial_id not in oracle.start_order]:
        del oracle.trials[trial_id]
        shutil.rmtree(oracle._get_trial_dir(trial_id), ignore_errors=True)


def restore_grid_position(oracle: Any) -> None:
    """Rebuild the grid oracle's walk, which keras-tuner keeps only in memory.

    Trials run one at a time, so the walk is the trials in start order, continued from every ended one.
    """
    oracle._ordered_ids = LinkedList()
    for trial_id in oracle.start_order:
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = list(oracle.end_order)


@functools.cache
def durable_class(oracle_class: type) -> type:
    """``oracle_class`` with DurableOracle in front of it."""
    return type(f"Durable{oracle_class.__name__}", (DurableOracle, oracle_class), {})


class DurableTuner(keras_tuner.Tuner):
    """Placed after the algorithm's tuner class, so it receives the oracle that class built."""

    def __init__(self, oracle: Any, hypermodel: Any = None, **kwargs: Any) -> None:
        # The algorithm's tuner builds its oracle itself; swapping the class keeps its state and settings.
        oracle.__class__ = durable_class(type(oracle))
        super().__init__(oracle, hypermodel, **kwargs)

    def save(self) -> None:
        if not self._is_worker():  # a worker's oracle is the chief's, saved there
            self.oracle.save()
        files.write_json(Path(self._get_tuner_fname()), self.get_state())
