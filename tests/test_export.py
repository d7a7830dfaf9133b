import pytest
import yaml

from tuner.engine.export import fixed_space
from tuner.engine.resume import resolved_yaml
from tuner.space.loading import parse_spec
from tuner.space.schema import Spec
from tuner.space.yaml_source import YamlDocument


def _space(**search) -> dict:
    spec = Spec.model_validate(
        {
            "name": "s",
            "data": {"source": "digits"},
            "model": {"conv_blocks": {"values": [1, 2, 3]}},
            "optimizer": {"name": {"values": ["adam", "sgd"]}},
            "training": {"restarts": 2},
            "search": {"algorithm": "random", **search},
        }
    )
    return yaml.safe_load(resolved_yaml(spec))


def _values(**overrides) -> dict:
    values = {"conv_blocks": 2, "kernel_size": 3, "pooling": "max", "batch_norm": False, "dropout": 0.2}
    values.update(dense_units=64, optimizer="adam", learning_rate=0.003, epochs=10, batch_size=32, loss="auto")
    return {**values, "filters_0": 8, "filters_1": 32, **overrides}


DIGITS = tuple("0123456789")


def _reparsed(fixed: dict) -> Spec:
    return parse_spec(YamlDocument(path="best.yaml", data=fixed, lines={}))


def test_every_hyperparameter_is_fixed_and_per_block_filters_become_a_list():
    fixed = fixed_space(_space(), _values(), "3", DIGITS)
    spec = _reparsed(fixed)
    assert spec.name == "s-trial-3"
    assert spec.model.conv_blocks == 2 and spec.model.filters == [8, 32]
    assert spec.optimizer.name == "adam" and "momentum" not in fixed["optimizer"]
    assert spec.training.restarts == 2
    assert spec.search.max_trials == 1
    assert spec.data.class_names == list(DIGITS)  # what ``tuner predict`` names its answers with


def test_equal_filters_are_one_value_and_momentum_is_kept_for_sgd():
    fixed = fixed_space(_space(), _values(filters_1=8, optimizer="sgd", momentum=0.4), "0", DIGITS)
    assert fixed["model"]["filters"] == 8
    assert fixed["optimizer"]["momentum"] == pytest.approx(0.4)


def test_a_hyperband_trial_is_retrained_for_the_epochs_it_got():
    fixed = fixed_space(_space(algorithm="hyperband"), _values(**{"tuner/epochs": 4}), "0", DIGITS)
    assert fixed["training"]["epochs"] == 4 and fixed["search"]["algorithm"] == "random"
