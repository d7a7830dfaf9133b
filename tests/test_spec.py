import pytest

from tuner.errors import InputError
from tuner.spec import Spec, parse_spec
from tuner.yamlsource import YamlDocument


def _parse(**model) -> Spec:
    return parse_spec(YamlDocument(path="s.yaml", data={"data": {"source": "digits"}, "model": model}))


def test_restarts_default_to_one_and_must_be_positive():
    assert _parse().training.restarts == 1
    with pytest.raises(InputError, match=r"training\.restarts"):
        parse_spec(YamlDocument(path="s.yaml", data={"data": {"source": "digits"}, "training": {"restarts": 0}}))


def test_filters_may_be_given_per_block():
    assert _parse(conv_blocks=2, filters=[8, 32]).model.filters == [8, 32]


def test_per_block_filters_must_cover_the_deepest_model():
    with pytest.raises(InputError, match=r"model\.filters: gives 2 per-block values but conv_blocks can be 3"):
        _parse(conv_blocks={"min": 1, "max": 3}, filters=[8, 32])


def test_per_block_filters_are_positive_integers():
    with pytest.raises(InputError, match=r"model.filters.1: must be greater than or equal to 1"):
        _parse(conv_blocks=2, filters=[8, 0])
