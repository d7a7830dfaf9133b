"""Hostile space files for fuzzing the loader: documents drawn from the published JSON Schema, then mutated.

A case is drawn from one ``random.Random``, so a seed replays it exactly; the property test and
``bench/fuzz_spaces.py`` share everything here. ``check`` is the property: a file loads as a valid spec or gives
one ``InputError`` line that names the file and its key, and nothing else.
"""

from __future__ import annotations

import functools
import json
import random
import resource
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tuner.errors import InputError
from tuner.space.loading import load_spec
from tuner.text import visible

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's when installed: the dumping is not under test
RAW = "@@raw{}@@"  # a placeholder value, swapped for raw YAML text after dumping

HOSTILE_STRINGS = (
    "",
    " ",
    "x" * 100_000,
    "<script>alert(1)</script>",
    "[bold]x[/]",
    "a\nb",
    "tab\there",
    "right\u202eto-left",
    "\u0000nul",
    "\x1b[31mred",
    "é\u0301🙂中文",
    "../../etc/passwd",
    "'\"",
    "!!python/object:os.system",
    "*alias",
    "&anchor",
    "%TAG",
    "null",
    "yes",
    "1e999",
    "0x1F",
    "2001-02-30",
)
HOSTILE_NUMBERS: tuple[Any, ...] = (0, -1, 1, 2, 3, 0.5, -0.0, 1e-320, 1e308, -1e308, 2**63, 2**64 + 1, 10**300)
# Raw YAML scalars and collections that ``yaml.safe_dump`` would not write, each spliced in as a value.
RAW_VALUES = (
    ".nan",
    ".inf",
    "-.inf",
    "1e999",
    "1" * 5000,
    "0b102",
    "0o9",
    "2001-02-30",
    "~",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!float abc",
    "!!int ''",
    "!!bool maybe",
    "!!timestamp x",
    "!!binary 'aGk='",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!custom value",
    "!<tag:example.com,2000:x> 1",
    '"\\0\\x1b\\u202e\\ud800"',
    "'unterminated",
    "{a: 1, a: 2}",
    "[1, [2, [3]]",
    "&loop [*loop]",
    "{<<: {source: digits}}",
    "? [1, 2]\n  : x",
)
KEY_CHARACTERS = "abcdefghijklmnopqrstuvwxyz_.-0123456789 :#&*!|>'\"%@`{}[],?\t\u202e"
TEXT_INSERTS = ("\t", ":", "- ", "{", "[", "]", "}", "'", '"', "&a ", "*a", "!!str ", "#", "\n  ", "\r", "\ufeff")
BYTE_INSERTS = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"\xfe\xff", b"\xef\xbb\xbf", b"\x80\x80")


@functools.cache
def schema() -> dict[str, Any]:
    """The space file's published JSON Schema, as shipped beside the loader."""
    return json.loads(resources.files("tuner.space").joinpath("space.schema.json").read_text(encoding="utf-8"))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def instance(node: dict[str, Any], rng: random.Random) -> Any:
    """A value that ``node`` (a JSON Schema) allows, mostly; cross-key rules are left to chance."""
    node = _resolve(node)
    branches = node.get("oneOf") or node.get("anyOf") or node.get("allOf")
    if branches:
        return instance(rng.choice(branches), rng)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return rng.choice(node["enum"])
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        chosen = [key for key in properties if key in node.get("required", ()) or rng.random() < 0.2]
        return {key: instance(properties[key], rng) for key in chosen}
    if kind == "array":
        low = node.get("minItems", 0)
        count = rng.randint(low, node.get("maxItems", low + 3))
        return [instance(node.get("items", {}), rng) for _ in range(count)]
    if kind == "integer":
        low = node.get("minimum", node.get("exclusiveMinimum", -1) + 1)
        return rng.randint(low, node.get("maximum", low + 64))
    if kind == "number":
        low = node.get("minimum", node.get("exclusiveMinimum", 0.0))
        high = node.get("maximum", node.get("exclusiveMaximum", low + 1.0))
        return round(rng.uniform(low, high), 4)
    if kind == "string":
        return rng.choice(("20m", "90s", "8h")) if "pattern" in node else rng.choice(("a", "run-1", "cat", "dog"))
    if kind == "boolean":
        return rng.random() < 0.5
    return None


def document(rng: random.Random) -> dict[str, Any]:
    """A space drawn from the schema; half of them on digits with nothing else in data, so many are valid."""
    drawn = instance(schema(), rng)
    if rng.random() < 0.5:
        drawn["data"] = {"source": "digits"}
    return drawn


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place below ``value`` a mutation can reach: mapping keys and list items, outermost first."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _misspelt(key: str, rng: random.Random) -> str:
    at = rng.randrange(len(key) + 1)
    edits = (
        key[:at] + rng.choice(KEY_CHARACTERS) + key[at:],
        key[:at] + key[at + 1 :],
        key.upper(),
        key + "s",
        key[:at] + key[at + 1 : at + 2] + key[at : at + 1] + key[at + 2 :],
    )
    return rng.choice(edits) or "k"


def hostile_value(rng: random.Random, raws: list[str]) -> Any:
    """A value of a wrong type, out of range, huge, unicode or raw YAML (recorded in ``raws``)."""
    pick = rng.randrange(6)
    if pick == 0:
        return rng.choice(HOSTILE_STRINGS)
    if pick == 1:
        number = rng.choice(HOSTILE_NUMBERS)
        return -number if rng.random() < 0.3 else number
    if pick == 2:
        raws.append(rng.choice(RAW_VALUES))
        return RAW.format(len(raws) - 1)
    if pick == 3:
        nested: Any = rng.choice(HOSTILE_STRINGS[:3])
        for _ in range(rng.choice((1, 5, 19, 25, 60))):  # deeper still comes from the text
            nested = [nested] if rng.random() < 0.5 else {"k": nested}
        return nested
    if pick == 4:
        return rng.choice((None, True, False, [], {}, [1, "a", None], {"values": []}, {"min": 3, "max": 1}))
    return {"values": [rng.choice(HOSTILE_STRINGS), rng.choice(HOSTILE_NUMBERS)]}


def mutate(value: dict[str, Any], rng: random.Random, raws: list[str]) -> None:
    """One change at a random place of ``value``: a wrong value, an unknown or misspelt key, or a deletion."""
    paths = _paths(value)
    if not paths:
        value[_misspelt("data", rng)] = hostile_value(rng, raws)
        return
    *parents, last = rng.choice(paths)
    holder = value
    for part in parents:
        holder = holder[part]
    pick = rng.randrange(4)
    if pick == 0 and isinstance(holder, dict):
        holder[_misspelt(str(last), rng)] = holder.pop(last)
    elif pick == 1 and isinstance(holder, dict):
        holder["".join(rng.choice(KEY_CHARACTERS) for _ in range(rng.randint(1, 12)))] = hostile_value(rng, raws)
    elif pick == 2:
        del holder[last]
    else:
        holder[last] = hostile_value(rng, raws)


def _dumped(value: Any, rng: random.Random, raws: list[str]) -> str:
    """``value`` as YAML in block or flow style, with each placeholder replaced by its raw text."""
    flow, unicode = rng.random() < 0.3, rng.random() < 0.5
    text = yaml.dump(value, Dumper=DUMPER, default_flow_style=flow, allow_unicode=unicode)
    for index, raw in enumerate(raws):
        text = text.replace(f"'{RAW.format(index)}'", raw)
    return text


def _text_mutation(text: str, rng: random.Random) -> str:
    """A change to the YAML text itself: aliases, bombs, duplicates, nesting, stray characters, great length."""
    # Long files cost the most to refuse (PyYAML reads about 20,000 values a second): drawn less often.
    pick = rng.choices(range(9), weights=(4, 4, 4, 4, 1, 4, 4, 4, 4))[0]
    lines = text.splitlines(keepends=True) or [""]
    if pick == 0:  # billion laughs: each level repeats the one before nine times
        levels = rng.randint(3, 12)
        bomb = ["lol0: &l0 [lol]\n"] + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, levels)]
        return "".join(bomb) + text
    if pick == 1:  # an anchor reused, the way a user might
        return "x: &shared {values: [8, 16]}\n" + text + f"y: *shared\n{rng.choice(('z', 'data'))}: *shared\n"
    if pick == 2:  # a line given twice: a duplicate key
        line = rng.choice(lines)
        return text + line
    if pick == 3:  # very deep flow nesting
        depth = rng.choice((10, 21, 100, 5000, 300_000))
        return text + f"deep: {'[' * depth}1{']' * depth}\n"
    if pick == 4:  # very long: a large list, or the whole file past the size limit
        count = rng.choice((300, 11_000, 100_000))
        return text + "long: [" + ", ".join(["0"] * count) + "]\n"
    if pick == 5:
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(TEXT_INSERTS) + text[at:]
    if pick == 6:
        return text[: rng.randrange(len(text) + 1)]
    if pick == 7:  # a line indented by a tab, or moved one level in
        index = rng.randrange(len(lines))
        lines[index] = rng.choice(("\t", "  ", " ")) + lines[index]
        return "".join(lines)
    return "%YAML 1.1\n---\n" + text + rng.choice(("---\nsecond: 1\n", "...\n", "# " + "c" * 2000 + "\n"))


def _byte_mutation(data: bytes, rng: random.Random) -> bytes:
    """Bytes that are not UTF-8, a BOM, UTF-16, or a NUL, placed anywhere."""
    if rng.random() < 0.1:
        return data.decode("utf-8", "replace").encode("utf-16")
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(BYTE_INSERTS) + data[at:]


def case(seed: int) -> bytes:
    """The space file that ``seed`` stands for: drawn, mutated as data, as text and as bytes."""
    rng = random.Random(seed)
    value = document(rng)
    raws: list[str] = []
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        mutate(value, rng, raws)
    text = _dumped(value, rng, raws)
    for _ in range(rng.choice((0, 0, 1, 2))):
        text = _text_mutation(text, rng)
    data = text.encode("utf-8", "surrogatepass")
    return _byte_mutation(data, rng) if rng.random() < 0.1 else data


@dataclass(frozen=True)
class Outcome:
    """What loading one file did: ``valid``, ``refused`` (one located InputError line), or a broken property:
    ``not_one_line`` (an InputError that is not one printable line naming its file and key) or ``other_exception``."""

    kind: str
    text: str
    cpu_seconds: float  # not wall time: on a shared machine a case may wait for a core far longer than it runs


def check(path: Path, data: bytes) -> Outcome:
    """Write ``data`` to ``path`` and load it, saying which of the outcomes it was."""
    path.write_bytes(data)
    started = time.process_time()
    try:
        spec, _ = load_spec(path)
    except InputError as error:
        line = f"tuner: {error}"
        kind = "refused" if _one_located_line(line, error, str(path)) else "not_one_line"
        return Outcome(kind, line, time.process_time() - started)
    except Exception as error:  # the property: no other exception may escape
        return Outcome("other_exception", f"{type(error).__name__}: {error}"[:300], time.process_time() - started)
    return Outcome("valid", spec.name, time.process_time() - started)


def _one_located_line(line: str, error: InputError, shown: str) -> bool:
    """One printable line that starts with the file and shows the key the error is about."""
    return line.isprintable() and line.startswith(f"tuner: {shown}") and (visible(error.key)[:40] in line)


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
