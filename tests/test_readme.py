"""The README's YAML reference is itself a valid space, so what it shows is what the tool accepts."""

from __future__ import annotations

import re
from pathlib import Path

from tuner.space.loading import parse_spec
from tuner.space.yaml_source import parse_yaml

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_yaml_examples_are_valid_spaces():
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2
    for block in blocks:
        spec = parse_spec(parse_yaml(block, "README.md"))
        assert spec.data.source == "digits"
