import random

import pandas as pd

from tuner.reports.importance import importance
from tuner.reports.trials import Trials


def _trials(count: int) -> Trials:
    rng = random.Random(1)
    rates = [10 ** rng.uniform(-4, -1) for _ in range(count)]
    optimizers = [rng.choice(["adam", "sgd"]) for _ in range(count)]
    frame = pd.DataFrame(
        {
            "trial": [str(i) for i in range(count)],
            "status": ["completed"] * count,
            # The loss depends on the learning rate only; the optimiser is noise.
            "objective": [abs(rate - 0.01) + rng.uniform(0, 0.001) for rate in rates],
            "hp_learning_rate": rates,
            "hp_optimizer": optimizers,
            "hp_momentum": [rng.random() if o == "sgd" else None for o in optimizers],
        }
    )
    return Trials(frame=frame, objective="val_loss", direction="min", tuned=("learning_rate", "optimizer", "momentum"))


def test_the_hyperparameter_that_drives_the_objective_ranks_first():
    table = importance(_trials(60))
    assert table["hyperparameter"].iloc[0] == "learning_rate"
    assert table["importance"].iloc[0] > 0.5
    assert table.set_index("hyperparameter").loc["optimizer", "importance"] < 0.2
    assert table["importance"].between(0, 1).all()


def test_too_few_completed_trials_give_an_empty_table():
    trials = _trials(6)
    trials.frame.loc[2:, "status"] = "failed"
    assert importance(trials).empty
    assert list(importance(trials).columns) == ["hyperparameter", "importance"]
