"""The YAML contract: value forms, defaults, and one located line per mistake."""

from __future__ import annotations

import pytest

from tuner.errors import InputError
from tuner.space.loading import load_spec, parse_spec
from tuner.space.schema import Choice, Range, Spec
from tuner.space.yaml_source import YamlDocument


def error_of(space_file, text: str) -> str:
    path = space_file(text)
    with pytest.raises(InputError) as caught:
        load_spec(path)
    return str(caught.value).replace(str(path), "space.yaml")


def test_three_line_file_gets_defaults_for_everything(space_file):
    spec, _ = load_spec(space_file("data:\n  source: digits\n", name="my space.yaml"))
    assert spec.name == "my-space"
    assert spec.seed == 42
    assert spec.search.objective.name == "val_loss" and spec.search.objective.direction == "min"
    assert isinstance(spec.model.conv_blocks, Range)
    assert isinstance(spec.optimizer.name, Choice)


def test_value_forms_parse_to_fixed_choice_and_ranges(space_file):
    spec, _ = load_spec(
        space_file(
            """
            data: {source: digits}
            model:
              kernel_size: 5
              filters: {values: [8, 16]}
              conv_blocks: {min: 1, max: 4, step: 1}
              dropout: {min: 0.0, max: 0.4}
            optimizer:
              name: sgd
              learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}
            """
        )
    )
    assert spec.model.kernel_size == 5
    assert spec.model.filters.values == [8, 16]
    assert spec.model.conv_blocks.min == 1 and isinstance(spec.model.conv_blocks.max, int)
    assert isinstance(spec.model.dropout.max, float)
    assert spec.optimizer.learning_rate.sampling == "log"


def test_objective_shorthand_infers_direction(space_file):
    spec, _ = load_spec(space_file("data: {source: digits}\nsearch: {objective: val_accuracy}\n"))
    assert spec.search.objective.direction == "max"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "data: {source: digits}\nmodel:\n  fitlers: 8\n",
            "space.yaml:3: model.fitlers: unknown key; did you mean 'filters'?",
        ),
        (
            "data: {source: digits}\noptimizer:\n  learning_rate: {min: 0.0, max: 0.1}\n",
            "space.yaml:3: optimizer.learning_rate.min: must be greater than 0 (got 0.0)",
        ),
        (
            "data: {source: digits}\nmodel:\n  conv_blocks: {min: 3, max: 1}\n",
            "space.yaml:3: model.conv_blocks.min: must be <= max (got min=3, max=1)",
        ),
        (
            "data: {source: digits}\nmodel:\n  dropout: {min: 0.0, max: 0.5, sampling: log}\n",
            "space.yaml:3: model.dropout.min: must be > 0 for log sampling (got 0.0)",
        ),
        (
            "data: {source: digits}\ntraining:\n  epochs: ten\n",
            "space.yaml:3: training.epochs: must be a valid integer (got 'ten')",
        ),
        (
            "data: {source: digits}\ntraining:\n  jit_compile: maybe\n",
            "space.yaml:3: training.jit_compile: must be one of auto, True or False (got 'maybe')",
        ),
        (
            "data: {source: digits}\ntraining:\n  mixed_precision: 1\n",
            "space.yaml:3: training.mixed_precision: must be a valid boolean (got 1)",
        ),
        ("data: {source: npz}\n", "space.yaml:1: data.path: is required for source npz"),
        ("data:\n  source: digits\nname: ../x\n", "space.yaml:3: name: must be letters, digits"),
        ("model: {}\n", "space.yaml: data: is required"),
        ("data: {source: digits}\ndata: {source: npz}\n", "space.yaml:2: data: duplicate key (first given on line 1)"),
        ("data: {source: [digits\n", "space.yaml:2: invalid YAML"),
        ("data: !!python/object/apply:os.system [ls]\n", "space.yaml:1: invalid YAML:"),
        ("- just\n- a list\n", "space.yaml: must be a mapping of keys to values (got list)"),
    ],
)
def test_mistakes_give_one_located_line(space_file, text, expected):
    assert error_of(space_file, text).startswith(expected)


def test_python_tags_are_refused_not_executed(space_file, tmp_path):
    marker = tmp_path / "ran"
    message = error_of(space_file, f"data: !!python/object/apply:os.system ['touch {marker}']\n")
    assert "tags are refused" in message
    assert not marker.exists()


def test_unknown_metric_objective_names_what_models_report(space_file):
    message = error_of(space_file, "data: {source: digits}\nsearch:\n  objective: f1\n")
    assert message.startswith("space.yaml:3: search.objective: unknown metric 'f1'")


def test_grid_over_real_range_without_step_is_accepted(space_file):
    spec, _ = load_spec(space_file("data: {source: digits}\nsearch: {algorithm: grid}\n"))
    assert spec.search.algorithm == "grid"
    assert spec.optimizer.learning_rate.step is None and spec.optimizer.momentum.step is None


def test_momentum_without_an_optimizer_that_uses_it_is_refused(space_file):
    message = error_of(space_file, "data: {source: digits}\noptimizer:\n  name: adam\n  momentum: 0.9\n")
    assert message.startswith("space.yaml:4: optimizer.momentum: is only used by sgd and rmsprop")


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_spec(tmp_path / "absent.yaml")


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
