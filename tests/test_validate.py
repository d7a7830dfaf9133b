"""``tuner validate``'s checks: the hyperparameter table, exact grid sizes, the extreme models."""

from __future__ import annotations

from tuner.engine.validate import check_space
from tuner.space.loading import load_spec


def test_grid_size_counts_conditional_hyperparameters_exactly(space_file):
    path = space_file(
        """
        data: {source: digits}
        model:
          conv_blocks: {values: [1, 2]}
          filters: {values: [4, 8, 16]}
          dropout: {values: [0.0, 0.5]}
          dense_units: 0
        optimizer:
          name: {values: [adam, sgd]}
          learning_rate: {values: [0.01, 0.001]}
          momentum: {values: [0.0, 0.9]}
        training: {batch_size: 32}
        search: {algorithm: grid}
        """
    )
    spec, _ = load_spec(path)
    check = check_space(spec, path.parent)
    # depth 1: 3 filters, depth 2: 9; times dropout 2, lr 2; optimizer: adam 1 + sgd 2 momenta.
    assert check.grid_size == (3 + 9) * 2 * 2 * (1 + 2)


def test_smallest_and_largest_models_bound_the_space(space_file):
    path = space_file("data: {source: digits}\nmodel:\n  conv_blocks: {min: 1, max: 3}\n  filters: {values: [4, 64]}\n")
    spec, _ = load_spec(path)
    check = check_space(spec, path.parent)
    assert check.grid_size is None
    assert 0 < check.smallest_params < check.largest_params
    names = {row.name: row for row in check.hyperparameters}
    assert names["filters_2"].condition == "conv_blocks in [3]"
