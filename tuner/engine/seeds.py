"""Seeds derived from the run seed and a trial's configuration, never from scheduling.

So a trial trains the same way whichever worker runs it and whatever ran before it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def derive_seed(*parts: Any) -> int:
    """A positive 31-bit seed from any JSON-able parts (keras-tuner treats 0 as unseeded)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1


def trial_seed(run_seed: int, values: dict[str, Any], restart: int) -> int:
    """A training seed that depends on the configuration and restart, not on scheduling."""
    own = {name: value for name, value in values.items() if not name.startswith("tuner/")}
    return derive_seed(run_seed, own, restart)
