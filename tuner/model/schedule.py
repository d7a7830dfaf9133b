"""The learning rate per epoch: a linear warm-up, then constant, cosine or exponential decay.

Per epoch rather than per step, so the curve depends only on the trial's epochs and not on its batch size
(which halves when a trial runs out of memory) or on the data's size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras

# Exponential decay ends the run at this share of the learning rate.
EXPONENTIAL_FLOOR = 0.01


def learning_rate_at(epoch: int, rate: float, schedule: str, warmup_epochs: int, epochs: int) -> float:
    """The learning rate of ``epoch`` (counted from 0) of a trial of ``epochs`` epochs."""
    if epoch < warmup_epochs:
        return rate * (epoch + 1) / (warmup_epochs + 1)
    progress = (epoch - warmup_epochs) / max(1, epochs - warmup_epochs)
    if schedule == "cosine":
        return rate * 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "exponential":
        return rate * EXPONENTIAL_FLOOR**progress
    return rate


def schedule_callback(values: Mapping[str, Any]) -> keras.callbacks.Callback | None:
    """Keras' LearningRateScheduler for the trial's schedule; None for a constant rate without warm-up."""
    schedule = values.get("schedule", "constant")
    warmup = values.get("warmup_epochs", 0)
    if schedule == "constant" and not warmup:
        return None
    rate, epochs = values["learning_rate"], values["epochs"]
    return keras.callbacks.LearningRateScheduler(
        lambda epoch, _rate: learning_rate_at(epoch, rate, schedule, warmup, epochs)
    )
