"""keras-tuner's Bayesian optimisation, with a random start sized to the budget and cheap predictions.

keras-tuner picks each trial by minimising an upper confidence bound from 50 random starts with
L-BFGS-B and numerical gradients: tens of thousands of one-point ``predict`` calls per trial. In
scikit-learn's ``predict`` the input checks cost about five times the arithmetic, which made the oracle
take up to 10 s per trial on the digits space, longer than training. The oracle here is keras-tuner's,
unchanged, over a regressor whose posterior prediction skips those checks (the oracle's input is a
finite float vector it made itself) and otherwise computes what scikit-learn's does, step for step.
How many random trials come first is ``initial_points``.
"""

from __future__ import annotations

from typing import Any

import keras_tuner
import numpy as np
from scipy.linalg import solve_triangular
from sklearn.gaussian_process import GaussianProcessRegressor

from tuner.compat.keras_tuner import BayesianOracleHooks
from tuner.compat.sklearn import target_normalisation
from tuner.model.space import declared_space
from tuner.space.schema import Spec

# keras-tuner's own floor for the Bayesian oracle's random start.
MIN_INITIAL_POINTS = 3


class CheckedOnceGaussianProcess(GaussianProcessRegressor):
    """scikit-learn's regressor; the posterior mean and standard deviation skip the per-call input checks."""

    def predict(self, X: Any, return_std: bool = False, return_cov: bool = False) -> Any:  # noqa: N803
        if return_cov or not hasattr(self, "X_train_") or self.alpha_.ndim != 1:
            return super().predict(X, return_std=return_std, return_cov=return_cov)
        points = np.asarray(X, dtype=np.float64)
        cross = self.kernel_(points, self.X_train_)
        shift, scale = target_normalisation(self)
        mean = scale * (cross @ self.alpha_) + shift
        if not return_std:
            return mean
        solved = solve_triangular(self.L_, cross.T, lower=True, check_finite=False)
        variance = self.kernel_.diag(points).copy()
        variance -= np.einsum("ij,ji->i", solved.T, solved)
        variance[variance < 0] = 0.0  # rounding; scikit-learn also warns
        return mean, np.sqrt(variance * scale**2)


class BayesianOracle(BayesianOracleHooks, keras_tuner.oracles.BayesianOptimizationOracle):
    """keras-tuner's Bayesian oracle, over the same regressor with the same settings, predicting cheaply."""

    def make_regressor(self) -> GaussianProcessRegressor:
        return CheckedOnceGaussianProcess(**super().make_regressor().get_params(deep=False))


def initial_points(spec: Spec) -> int:
    """How many random trials the Bayesian oracle draws before it models the space.

    keras-tuner's default, three per hyperparameter with the fixed ones counted, exceeds most budgets
    (45 for the digits space against its 20 trials), which leaves a Bayesian search random to the end.
    Here: three per tunable hyperparameter, capped at a quarter of the trials as SMAC caps its initial
    design, and never fewer than keras-tuner's minimum of three.
    """
    if spec.search.initial_points is not None:
        return spec.search.initial_points
    space = declared_space(spec).space
    tunable = sum(not isinstance(parameter, keras_tuner.engine.hyperparameters.Fixed) for parameter in space)
    return max(MIN_INITIAL_POINTS, min(3 * tunable, spec.search.max_trials // 4))
