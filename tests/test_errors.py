"""The error hierarchy behaves like Python exceptions and gives every kind of failure its own exit code."""

from __future__ import annotations

import contextlib
import pickle

import pytest

from tuner import errors
from tuner.errors import InputError, RunBusyError, TunerError

KINDS = [getattr(errors, name) for name in errors.__all__]


def test_every_failure_is_a_tuner_error_and_codes_tell_kinds_apart():
    assert all(issubclass(kind, TunerError) for kind in KINDS)
    own = {kind: kind.exit_code for kind in KINDS if "exit_code" in vars(kind)}
    assert len(set(own.values())) == len(own)
    assert InputError.exit_code == 2 and errors.RunFormatError.exit_code == 2 and TunerError.exit_code == 1


@pytest.mark.parametrize("kind", KINDS)
def test_errors_pickle_with_their_location(kind):
    error = kind("is wrong", key="model.filters", file="space.yaml", line=4)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is kind and str(copy) == str(error) == "space.yaml:4: model.filters: is wrong"


def test_errors_take_notes_and_cross_a_context_manager():
    @contextlib.contextmanager
    def passing_through():
        yield

    with pytest.raises(RunBusyError) as raised, passing_through():
        error = RunBusyError("busy")
        error.add_note("retry later")
        raise error
    assert raised.value.__notes__ == ["retry later"]


def test_located_keeps_the_kind_and_adds_file_and_line():
    located = RunBusyError("busy", key="name").located("space.yaml", 1)
    assert isinstance(located, RunBusyError) and str(located) == "space.yaml:1: name: busy"
