"""The schema is the single source: Literal-derived names, described fields, and the published JSON Schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import jsonschema
import pytest
from pydantic import BaseModel

from tuner.space import schema
from tuner.space.json_schema import space_json_schema, space_json_schema_text
from tuner.space.yaml_source import load_yaml, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "tuner" / "space" / "space.schema.json"
BUNDLED = sorted((ROOT / "search_spaces").glob("*.yaml"))
SPEC_MODELS: tuple[type[BaseModel], ...] = (
    schema.Spec,
    schema.DataSpec,
    schema.ModelSpec,
    schema.OptimizerSpec,
    schema.TrainingSpec,
    schema.AugmentationSpec,
    schema.SearchSpec,
    schema.Objective,
    schema.Choice,
    schema.Range,
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    published = space_json_schema()
    jsonschema.Draft202012Validator.check_schema(published)
    return jsonschema.Draft202012Validator(published)


def test_committed_schema_file_is_what_the_models_generate():
    assert COMMITTED.read_text(encoding="utf-8") == space_json_schema_text(), (
        "tuner/space/space.schema.json is stale: regenerate it with tuner schema > tuner/space/space.schema.json"
    )


def test_schema_is_draft_2020_12_with_name_optional_and_unknown_keys_refused():
    published = space_json_schema()
    assert published["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert published["required"] == ["data"]
    assert published["additionalProperties"] is False
    assert published["properties"]["seed"]["default"] == 42


@pytest.mark.parametrize("path", BUNDLED, ids=[path.name for path in BUNDLED])
def test_every_bundled_space_validates_against_the_json_schema(path, validator):
    validator.validate(load_yaml(path).data)


def test_readme_yaml_examples_validate_against_the_json_schema(validator):
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    for block in blocks:
        validator.validate(parse_yaml(block, "README.md").data)


def test_bundled_spaces_are_found():
    assert len(BUNDLED) >= 5


@pytest.mark.parametrize(
    "space",
    [
        {"data": {"source": "digits"}, "sead": 1},
        {"data": {"source": "digits", "folder": "x"}},
        {"data": {"source": "digits"}, "model": {"fitlers": 8}},
        {"data": {"source": "digits"}, "model": {"dropout": {"min": 0.0, "max": 0.5, "stride": 0.1}}},
        {"data": {"source": "digits"}, "search": {"objective": {"name": "val_loss", "direction": "min", "x": 1}}},
    ],
    ids=["top level", "data", "model", "range", "objective"],
)
def test_unknown_keys_are_refused_by_the_json_schema(space, validator):
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(space)


def test_json_schema_refuses_what_the_loader_refuses(validator):
    for space in ({}, {"data": {"source": "imagenet"}}, {"data": {"source": "digits"}, "search": {"objective": "f1"}}):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(space)


def test_json_schema_accepts_the_objective_shorthand_and_every_tunable_form(validator):
    validator.validate(
        {
            "name": "forms",
            "data": {"source": "digits"},
            "model": {"kernel_size": 3, "filters": [8, 16, 32], "conv_blocks": {"values": [1, 2, 3]}},
            "optimizer": {"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}},
            "search": {"objective": "val_accuracy"},
        }
    )


@pytest.mark.parametrize("model", SPEC_MODELS, ids=[model.__name__ for model in SPEC_MODELS])
def test_every_field_of_every_spec_model_has_a_description(model):
    undescribed = [name for name, field in model.model_fields.items() if not (field.description or "").strip()]
    assert not undescribed


def test_every_field_description_reaches_the_json_schema():
    published = json.dumps(space_json_schema())
    for model in SPEC_MODELS:
        for field in model.model_fields.values():
            assert json.dumps(field.description)[1:-1] in published


@pytest.mark.parametrize(
    ("names", "literal"),
    [
        (schema.OPTIMIZERS, schema.Optimizer),
        (schema.MOMENTUM_OPTIMIZERS, schema.MomentumOptimizer),
        (schema.LOSSES, schema.Loss),
        (schema.BINARY_LOSSES, schema.BinaryLoss),
        (schema.REPORTED_METRICS, schema.Metric),
        (schema.SOURCES, schema.Source),
        (schema.PATH_SOURCES, schema.PathSource),
        (schema.ALGORITHMS, schema.Algorithm),
        (schema.POOLINGS, schema.Pooling),
        (schema.SAMPLINGS, schema.Sampling),
        (schema.COLOR_MODES, schema.ColorMode),
        (schema.LABEL_MODES, schema.LabelMode),
        (schema.DIRECTIONS, schema.Direction),
        (schema.GROUPINGS, schema.Grouping),
        (schema.JIT_COMPILE_MODES, schema.JitCompile),
    ],
)
def test_name_tuples_are_the_literal_args(names, literal):
    assert names == get_args(literal)


def test_sub_literals_are_subsets_in_their_parents_order():
    assert set(schema.BINARY_LOSSES) < set(schema.LOSSES)
    assert set(schema.MOMENTUM_OPTIMIZERS) < set(schema.OPTIMIZERS)
    assert schema.OPTIMIZERS == ("adam", "sgd", "rmsprop", "adamw", "nadam")
    assert schema.SOURCES[:3] == ("digits", "npz", "directory")


@pytest.mark.slow
def test_json_schema_module_loads_no_keras_or_tensorflow():
    code = (
        "import sys; from tuner.space.json_schema import space_json_schema; space_json_schema();"
        " frameworks = ('keras', 'tensorflow', 'jax', 'torch', 'keras_tuner');"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in frameworks))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_tuner_schema_prints_the_committed_schema_without_tensorflow(run_tuner):
    result = run_tuner("schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")
