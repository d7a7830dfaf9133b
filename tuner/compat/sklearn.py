"""Every private name of scikit-learn the project touches, each with why; tested with scikit-learn 1.3 to 1.9.

The Bayesian oracle's quick posterior (tuner.engine.bayesian) repeats ``GaussianProcessRegressor.predict``
without its input checks, and so needs the target normalisation that ``fit`` stores privately.
"""

from __future__ import annotations

from typing import Any

from sklearn.gaussian_process import GaussianProcessRegressor

# Set by ``fit``: the mean and scale the targets were normalised with (1 and 0 without normalize_y).
PRIVATE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("_y_train_mean", "the targets' mean, added back to each prediction"),
    ("_y_train_std", "the targets' scale, multiplied back into each prediction and its deviation"),
)


def missing() -> list[str]:
    """The private names the installed scikit-learn's fitted regressor lacks, as ``Owner.name``."""
    fitted = GaussianProcessRegressor().fit([[0.0], [1.0]], [0.0, 1.0])
    return [f"GaussianProcessRegressor.{name}" for name, _ in PRIVATE_ATTRIBUTES if not hasattr(fitted, name)]


def target_normalisation(regressor: GaussianProcessRegressor) -> tuple[Any, Any]:
    """The (mean, scale) a fitted regressor normalised its targets with."""
    return regressor._y_train_mean, regressor._y_train_std
