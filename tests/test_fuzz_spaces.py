"""Fuzzed space files: every input loads as a valid spec or gives one located InputError line, quickly."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuner.errors import InputError
from tuner.space.loading import SECTION_KEYS, load_spec
from tuner.space.yaml_source import MAX_BYTES, MAX_DEPTH, MAX_VALUES
from tuner.testing.fuzz import case, check

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SECTIONS = [section for section in SECTION_KEYS if section and "." not in section and section != "data"]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)


def _error(tmp_path, text: str) -> InputError:
    path = tmp_path / "space.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    return caught.value


@FUZZ
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_every_mutated_space_loads_or_gives_one_located_line(tmp_path, seed):
    outcome = check(tmp_path / "space.yaml", case(seed))
    assert outcome.kind in ("valid", "refused"), outcome.text


@FUZZ
@given(section=st.sampled_from(SECTIONS), key=st.text(min_size=1, max_size=30), value=VALUES)
def test_an_unknown_key_is_named_with_its_section(tmp_path, section, key, value):
    if key in SECTION_KEYS[section] or key == "<<":
        return
    text = yaml.safe_dump({"data": {"source": "digits"}, section: {key: value}})
    error = _error(tmp_path, text)
    assert (error.key, error.message.split(";")[0]) == (f"{section}.{key}", "unknown key")
    assert str(error).isprintable()


@FUZZ
@given(section=st.sampled_from(SECTIONS), data=st.data())
def test_a_wrong_value_is_refused_in_its_own_section(tmp_path, section, data):
    key = data.draw(st.sampled_from(SECTION_KEYS[section]), label="key")
    value = data.draw(VALUES, label="value")
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"data": {"source": "digits"}, section: {key: value}}), encoding="utf-8")
    try:
        load_spec(path)
    except InputError as error:
        assert error.key.split(".")[0] in (section, "training"), str(error)  # training.epochs: hyperband's own rule
        assert str(error).startswith(f"{path}:") and str(error).isprintable()


def test_a_billion_laughs_is_refused_at_once_naming_the_key(tmp_path):
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    started = time.perf_counter()
    error = _error(tmp_path, "\n".join(levels) + "\ndata: {source: digits}\n")
    assert time.perf_counter() - started < 5  # expanded, it holds 9**12 values
    assert (error.line, error.key) == (5, "a4.0")
    assert error.message == f"holds more than {MAX_VALUES:,} keys and values (aliases counted where they are used)"


def test_deep_flow_nesting_is_refused_while_scanning(tmp_path):
    started = time.perf_counter()
    error = _error(tmp_path, "data: {source: digits}\nseed: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert time.perf_counter() - started < 5  # PyYAML's scanner is quadratic in this depth
    assert (error.line, error.key, error.message) == (2, "seed", f"is nested more than {MAX_DEPTH} levels deep")


def test_aliases_that_deepen_past_the_limit_are_refused(tmp_path):
    # b, with a in it, is just within the limit where it is written; repeated one level further down it is not.
    text = "a: &a [[[[[[[[[1]]]]]]]]]\nb: &b [[[[[[[[[*a]]]]]]]]]\nc: [*b]\ndata: {source: digits}\n"
    error = _error(tmp_path, text)
    assert (error.line, error.key) == (3, "c.0")
    assert error.message.startswith(f"is nested more than {MAX_DEPTH} levels deep")


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path):
    error = _error(tmp_path, "data: {source: digits}\n#" + "x" * MAX_BYTES + "\n")
    assert str(error) == f"{tmp_path / 'space.yaml'}: is larger than 256 KiB: a space file needs a few hundred bytes"


def test_an_anchor_used_as_a_user_would_loads(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("data: {source: digits}\nmodel:\n  filters: &f {values: [8, 16]}\n  dense_units: *f\n")
    spec, _ = load_spec(path)
    assert spec.model.dense_units == spec.model.filters


def test_a_huge_string_is_quoted_short_in_the_message(tmp_path):
    error = _error(tmp_path, f"data: {{source: digits}}\nname: {'x' * 100_000}!\n")
    message = str(error).removeprefix(str(tmp_path))  # the message itself, whatever the folder's name
    assert len(message) < 300 and "(100,003 characters)" in message
