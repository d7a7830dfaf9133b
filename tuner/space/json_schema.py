"""The JSON Schema of a space file as a user writes it, for editors' completion and checking.

It is generated from the pydantic models in ``tuner.space.schema``, so it cannot drift from what the
loader accepts; a copy is committed as ``space.schema.json`` for editors that read it from a path or URL.
Importing this module loads no Keras or TensorFlow.
"""

from __future__ import annotations

import json
from typing import Any

from tuner.space.schema import Spec

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def space_json_schema() -> dict[str, Any]:
    """The draft 2020-12 schema of a space file, with every key's description and default."""
    schema = Spec.model_json_schema(mode="validation")
    # The loader names the run after the file when ``name`` is absent (loading._default_name).
    schema["required"] = [key for key in schema["required"] if key != "name"]
    schema["title"] = "tuner search space"
    schema["description"] = "A search space for tuner: the data, the CNN family, training and the search."
    return {"$schema": DIALECT, **schema}


def space_json_schema_text() -> str:
    """The schema as the committed ``space.schema.json`` holds it: sorted keys, two-space indent."""
    return json.dumps(space_json_schema(), indent=2, sort_keys=True) + "\n"
