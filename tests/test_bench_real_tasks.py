"""The real-task benchmark: its plain arm is the family's space without the family, and it runs at a tiny size."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.helpers import bench_module, run_bench
from tuner.model.space import DEFAULTS, declared_space
from tuner.space.schema import Spec

BUNDLED = Path(str(resources.files("tuner.search_spaces")))
FAMILY_HYPERPARAMETERS = {*DEFAULTS, "filters_growth", "weight_decay"}


def _declared(space: dict) -> set[str]:
    return {item.name for item in declared_space(Spec.model_validate(space)).space}


def test_the_plain_arm_declares_none_of_the_familys_hyperparameters():
    family = yaml.safe_load((BUNDLED / "fashion_mnist.yaml").read_text(encoding="utf-8"))
    plain = bench_module("real_tasks").plain(family)
    assert _declared(family) & FAMILY_HYPERPARAMETERS  # the bundled space does use the family
    assert not _declared(plain) & FAMILY_HYPERPARAMETERS
    assert plain["model"]["filters"] == family["model"]["filters"] and plain["search"] == family["search"]
    assert "augmentation" in family and "residual" in family["model"]  # the family's space itself is untouched


@pytest.mark.slow
def test_real_tasks_scores_both_arms_on_the_test_split(tmp_path):
    family = yaml.safe_load((BUNDLED / "fashion_mnist.yaml").read_text(encoding="utf-8"))
    family["data"] = {"source": "digits", "test_split": 0.2, "limit": 400}
    family["model"]["filters"] = 4
    space = tmp_path / "family.yaml"
    space.write_text(yaml.safe_dump(family), encoding="utf-8")
    results = tmp_path / "real.json"
    args = ("--space", str(space), "--trials", "1", "--epochs", "1", "--workers", "1", "--results", str(results))
    done = run_bench("real_tasks.py", *args)
    figures = json.loads(results.read_text(encoding="utf-8"))
    assert done.returncode == (1 if figures["missed"] else 0), done.stdout + done.stderr
    assert 0.0 < figures["family_test_accuracy"] <= 1.0 and 0.0 < figures["plain_test_accuracy"] <= 1.0
    assert figures["family_best"]["architecture"] == "3x1 [4 8 16] flatten"  # growth 2.0 from the first stage
    assert figures["plain_best"]["hp_filters_1"] == 4  # plain blocks draw every stage's filters
    assert "family_minus_plain" in figures and "on the official test split" in done.stdout
