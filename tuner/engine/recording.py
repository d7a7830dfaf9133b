"""The tuner mix-in that seeds every build, records every epoch and keeps failed trials to one line.

keras-tuner keeps only each trial's best epoch; the per-epoch histories written here are what the
reports, the restarts' spread and ``tuner export`` read.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from tuner.backend.errors import is_out_of_memory
from tuner.backend.selection import active
from tuner.compat.keras_tuner import SaveBestEpoch, TunerHooks, is_worker, oversized_params
from tuner.engine.budget import StopOnTime, read_deadline
from tuner.engine.failures import check_finite, failure_reason, stop_if_failing
from tuner.engine.interrupt import StopOnCtrlC
from tuner.engine.listener import Listener
from tuner.engine.quiet import optimizer_state_left_behind
from tuner.engine.seeds import trial_seed
from tuner.model.costs import costs
from tuner.reports.writer import ReportPacer, write_reports
from tuner.rundir import files, layout


class RecordingTuner(TunerHooks):
    """Mixed in front of a keras-tuner tuner: seeds every build, records every epoch, fails trials in one line."""

    def __init__(
        self,
        *args: Any,
        run_dir: Path,
        run_seed: int,
        listener: Listener,
        ctrl_c: StopOnCtrlC | None = None,
        **kwargs: Any,
    ) -> None:
        self.run_dir = run_dir
        self.run_seed = run_seed
        self.listener = listener
        self.restart = 0
        self.last_results: Any = None
        self.built_params: int | None = None
        self.retried_batch_size: int | None = None
        self.out_of_memory_at: list[int] = []
        # A worker in its launcher's process shares the launcher's: one handler per process for the stop signals.
        self.ctrl_c = ctrl_c or StopOnCtrlC()
        self.reports = ReportPacer()
        super().__init__(*args, **kwargs)

    def learn_space(self) -> None:
        """keras-tuner's own walk over the conditional branches, through a hypermodel that only declares."""
        building, self.hypermodel = self.hypermodel, self.hypermodel.space_only()
        try:
            super().learn_space()
        finally:
            self.hypermodel = building

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        self.restart = 0
        self.retried_batch_size = None
        self.out_of_memory_at = []
        return super().run_trial(trial, *args, **kwargs)

    def pre_create_trial(self) -> None:
        self.ctrl_c.check()
        super().pre_create_trial()

    def run_and_update_trial(self, trial: Any, *args: Any, **kwargs: Any) -> None:
        # keras-tuner keeps a whole traceback as the message; a failed trial here keeps one line.
        try:
            self.train_and_update_trial(trial, *args, **kwargs)
            trial.status = keras_tuner.engine.trial.TrialStatus.COMPLETED
        except keras_tuner.errors.FatalError:
            raise
        except Exception as error:
            if files.refused(error):  # the disk's failure, not the trial's: the search stops, the trial reruns
                raise
            trial.status = keras_tuner.engine.trial.TrialStatus.FAILED
            params = oversized_params(error)
            trial.message = failure_reason(error)
            if params is not None:
                trial.message = f"skipped: {params:,} parameters, over search.max_params {self.max_model_size:,}"
            elif len(self.out_of_memory_at) > 1:
                trial.message += f" (at batch size {self.out_of_memory_at[0]}, then {self.out_of_memory_at[1]})"

    def build_trial_model(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        # keras-tuner clears the Keras session just before this call, which also drops the seed.
        keras.utils.set_random_seed(trial_seed(self.run_seed, hp.values, self.restart))
        try:
            with optimizer_state_left_behind():  # Hyperband continues an earlier trial's weights
                model = super().build_trial_model(hp)
        except Exception as error:
            raise keras_tuner.errors.FailedTrialError(f"the model cannot be built: {failure_reason(error)}") from None
        self.built_params = int(model.count_params())  # the history's; kept even when max_model_size refuses it
        return model

    def build_and_fit(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = read_deadline(self.run_dir)
        if self.restart and deadline is not None and time.time() >= deadline:
            # Out of time before this restart: keras-tuner averages what it is given, so it gets the last one again.
            return self.last_results
        try:
            results, epochs = self.fit_within_memory(trial, deadline, *args, **kwargs)
        finally:
            self.restart += 1
        check_finite(epochs)
        self.last_results = results
        return results

    def fit_within_memory(self, trial: Any, deadline: float | None, *args: Any, **kwargs: Any) -> Any:
        """Train one restart; one that runs out of memory is trained again, from scratch, at half the batch size.

        The smaller batch then holds for the trial's later restarts too.
        """
        batch_size = self.retried_batch_size or trial.hyperparameters.get("batch_size")
        try:
            return self.fit_and_record(trial, deadline, batch_size, *args, **kwargs)
        except Exception as error:
            if self.retried_batch_size or batch_size < 2 or not is_out_of_memory(error):
                raise
        self.retried_batch_size = batch_size // 2
        gc.collect()  # the first try's tensors, before the second allocates its own
        return self.fit_and_record(trial, deadline, self.retried_batch_size, *args, **kwargs)

    def fit_and_record(
        self, trial: Any, deadline: float | None, batch_size: int, *args: Any, **kwargs: Any
    ) -> tuple[Any, list[dict[str, float]]]:
        """Build and train one restart at ``batch_size`` and write its history; returns the results and epochs."""
        recorder = EpochRecorder()
        self.built_params = None
        on_time = StopOnTime(deadline)
        savers = [c for c in kwargs.get("callbacks", []) if isinstance(c, SaveBestEpoch)]
        best_before = [saver.best_value for saver in savers]
        callbacks = [BestEpochInMemory(c) if isinstance(c, SaveBestEpoch) else c for c in kwargs.get("callbacks", [])]
        started = time.time()
        oversized = False
        measured: dict[str, Any] = {}
        try:
            results = super().build_and_fit(
                trial,
                *args,
                **{**kwargs, "callbacks": [*callbacks, recorder, self.ctrl_c, on_time]},
                batch_size=batch_size,
            )
            if not self.restart:  # one model is as costly as another of the same trial
                saved = next((Path(c.saver.filepath) for c in callbacks if isinstance(c, BestEpochInMemory)), None)
                measured = costs(recorder.model, saved, time.time() - started)
        except keras_tuner.errors.FailedTrialError as error:
            oversized = oversized_params(error) is not None
            raise
        except Exception as error:
            if is_out_of_memory(error):  # a try at a smaller batch starts from what the trial had before this one
                self.out_of_memory_at.append(batch_size)
                for saver, best in zip(savers, best_before, strict=True):
                    saver.best_value = best
            raise
        finally:
            # The model's size and shapes let reports show it and ``tuner export`` rebuild it without the data.
            files.write_json(
                layout.history_file(self.run_dir, trial.trial_id, self.restart),
                {
                    "trial_id": trial.trial_id,
                    "restart": self.restart,
                    "epochs": recorder.epochs,
                    "params": self.built_params,
                    **measured,
                    "input_shape": list(self.hypermodel.input_shape),
                    "num_classes": self.hypermodel.num_classes,
                    "class_names": list(self.hypermodel.class_names),
                    "pixel_scale": self.hypermodel.pixel_scale,
                    "worker": self.tuner_id,  # keras-tuner's id of this process: the timeline's lane
                    "backend": active(),  # what trained it: a worker's own, which must be the run's
                    "started": started,
                    "finished": time.time(),
                    "stopped_on_time": on_time.stopped,
                    # keras-tuner can only mark such a trial failed; reports and the failure streak read this.
                    "skipped": oversized,
                    "batch_size": batch_size,
                    "out_of_memory_at": list(self.out_of_memory_at),  # the batch sizes that did not fit
                },
            )
        return results, recorder.epochs

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        if is_worker(self):  # in keras-tuner's distributed mode the chief keeps the reports
            return
        if self.reports.due():  # the search writes them at its end, and when it stops early
            self.reports.write(write_reports, self.run_dir, live=True)
        best = self.oracle.get_best_trials(1)
        self.listener.trial_finished(
            trial.trial_id, str(trial.status).lower(), trial.score, _number(best[0].score) if best else None
        )
        stop_if_failing(self.oracle, self.run_dir)

    def replay(self, trial: Any, *args: Any, **kwargs: Any) -> list[dict[str, float]]:
        """Train a trial's first run again, seeded as in the search, and return its epochs without recording them."""
        self.restart = 0
        recorder = EpochRecorder()
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            kwargs.update(epochs=values["tuner/epochs"], initial_epoch=values["tuner/initial_epoch"])
        model = self.build_checked(trial.hyperparameters)
        self.hypermodel.fit(trial.hyperparameters, model, *args, callbacks=[recorder], **kwargs)
        return recorder.epochs


def save_checkpoint(model: keras.Model, path: Path) -> None:
    """Save ``model``'s weights atomically; a failed write raises one plain OSError and prints nothing else.

    h5py's file objects report a failed write again when they are freed, through both of Python's hooks for
    errors nobody can catch (a traceback, then "Exception ignored in ..."), under the one line the command ends
    with. They are freed here, with the original error, while those hooks are silenced.
    """
    shown = sys.excepthook, sys.unraisablehook
    sys.excepthook, sys.unraisablehook = (lambda *error: None), (lambda unraisable: None)
    failure = None
    try:
        files.save_atomic(path, model.save_weights)
    except OSError as error:
        failure = OSError(error.errno, error.strerror or str(error).splitlines()[0], str(path))
    finally:
        if failure is not None:  # a save that worked leaves nothing to free: no collection on every trial
            gc.collect()  # the original error, its frames and the h5py objects they hold
        sys.excepthook, sys.unraisablehook = shown
    if failure is not None:
        raise failure


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


class EpochRecorder(keras.callbacks.Callback):
    """Keeps every epoch's metrics and duration: keras-tuner stores only the best epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[dict[str, float]] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        record = {name: float(value) for name, value in (logs or {}).items()}
        record.update(epoch=epoch + 1, seconds=round(time.perf_counter() - self._started, 4))
        self.epochs.append(record)


class BestEpochInMemory(keras.callbacks.Callback):
    """keras-tuner's best-epoch checkpoint, written once when training ends rather than at every better epoch.

    The weights file costs tens of milliseconds per write on a small model, a copy in memory well under one.
    The optimiser's state is kept too, so the file holds exactly what keras-tuner's own callback would write.
    """

    def __init__(self, saver: SaveBestEpoch) -> None:
        super().__init__()
        self.saver = saver  # shared by a trial's restarts: its best value is the best over all of them
        self.best: list[Any] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        objective = self.saver.objective
        if objective.has_value(logs):  # without the objective, keras-tuner keeps the latest epoch
            value = objective.get_value(logs)
            if not objective.better_than(value, self.saver.best_value):
                return
            self.saver.best_value = value
        self.best = [variable.numpy() for variable in self._variables()]

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.best is None:
            return
        for variable, value in zip(self._variables(), self.best, strict=True):
            variable.assign(value)
        # Atomic: Hyperband and the test-set scoring load it, so a full disk must not leave half of one.
        save_checkpoint(self.model, Path(self.saver.filepath))

    def _variables(self) -> list[Any]:
        return [*self.model.weights, *self.model.optimizer.variables]
