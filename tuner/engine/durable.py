"""keras-tuner's on-disk state made crash-safe, so a killed search resumes where it stopped.

keras-tuner writes its JSON state in place and restores only part of it: a kill can leave half a file,
a trial that ``oracle.json`` never heard of, or (for grid search) an oracle that forgot its position.
These classes keep keras-tuner's own oracles and tuners and only change how their state is saved
and reloaded.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from typing import Any, TypeVar

import keras_tuner

from tuner.compat import keras_tuner as kt_compat
from tuner.engine.budget import TimeBudget
from tuner.rundir import files

T = TypeVar("T")


class DurableOracle(kt_compat.OracleHooks):
    """Mixed in front of a keras-tuner oracle: atomic saves, a reload that re-runs what was interrupted, and
    no new trial once the search's time budget is spent (keras-tuner has no time budget of its own)."""

    time_budget: TimeBudget | None = None  # set by the process that owns the oracle, once it is built
    stopped_on_time = False

    def create_trial(self, tuner_id: str) -> Any:
        finished = bool(self.max_trials) and len(self.trials) >= self.max_trials and not self._retry_queue
        if self.time_budget is None or not self.time_budget.expired() or tuner_id in self.ongoing_trials or finished:
            return super().create_trial(tuner_id)
        # What keras-tuner answers once max_trials is reached: a trial that says stop, and the tuner let go.
        self.stopped_on_time = True
        self.tuner_ids.discard(tuner_id)
        stopped = keras_tuner.engine.trial.TrialStatus.STOPPED
        return keras_tuner.engine.trial.Trial(self.hyperparameters.copy(), status=stopped)

    def end_trial(self, trial: Any) -> None:
        super().end_trial(trial)
        if self.time_budget is not None:
            self.time_budget.record()

    def save(self) -> None:
        files.write_json(kt_compat.oracle_state_file(self), self.get_state())

    def save_trial_state(self, trial: Any) -> None:
        folder = kt_compat.trial_dir(self, trial.trial_id)
        files.share_folder(folder)  # keras-tuner creates it 0755 whatever the umask
        files.write_json(folder / "trial.json", trial.get_state())

    def check_failure_streak(self) -> None:
        # keras-tuner raises here, before the failed trial is saved; the tuner stops the search after saving.
        return None

    def reload(self) -> None:
        # keras-tuner's reload already queues the trials that were running for a re-run.
        super().reload()
        drop_unstarted_trials(self)
        if isinstance(self, keras_tuner.oracles.GridSearchOracle):
            # Trials run one at a time, so the walk is the trials in start order, continued from every ended one.
            kt_compat.restore_grid_walk(self, self.start_order, self.end_order)

    def run_locked(self, action: Callable[..., T], *args: Any) -> T:
        """``action(*args)`` under the oracle's lock, which workers' requests take too; its error is raised after.

        keras-tuner's ``synchronized`` releases the lock only when the method returns, so nothing may raise inside.
        """
        result, error = self._locked(action, *args)
        if error is not None:
            raise error
        return result  # type: ignore[return-value]

    @keras_tuner.synchronized
    def _locked(self, action: Callable[..., T], *args: Any) -> tuple[T | None, BaseException | None]:
        try:
            return action(*args), None
        except BaseException as error:  # re-raised by run_locked, once the lock is free
            return None, error


def drop_unstarted_trials(oracle: Any) -> None:
    """Forget trials whose ``trial.json`` was saved but whose creation ``oracle.json`` never recorded.

    A kill between those two writes leaves such a trial; it is created again, with the same id and values.
    """
    for trial_id in [trial_id for trial_id in oracle.trials if trial_id not in oracle.start_order]:
        del oracle.trials[trial_id]
        shutil.rmtree(kt_compat.trial_dir(oracle, trial_id), ignore_errors=True)


@functools.cache
def durable_oracle(oracle_class: type) -> type:
    """``oracle_class`` with DurableOracle in front of it: the class the search builds its oracle from."""
    return type(f"Durable{oracle_class.__name__}", (DurableOracle, oracle_class), {})


class DurableTuner(keras_tuner.Tuner):
    """keras-tuner's tuner, saving its own state atomically (its oracle is a DurableOracle)."""

    def save(self) -> None:
        if not kt_compat.is_worker(self):  # a worker's oracle is the chief's, saved there
            self.oracle.save()
        files.write_json(kt_compat.tuner_state_file(self), self.get_state())
