import keras_tuner

from tuner.hypermodel import declare_space
from tuner.spec import Spec


def test_per_block_filters_are_fixed_block_by_block():
    spec = Spec.model_validate(
        {"name": "s", "data": {"source": "digits"}, "model": {"conv_blocks": 2, "filters": [8, 32]}}
    )
    hp = keras_tuner.HyperParameters()
    values = declare_space(hp, spec)
    assert (values["filters_0"], values["filters_1"]) == (8, 32)
    assert {type(item).__name__ for item in hp.space if item.name.startswith("filters_")} == {"Fixed"}
