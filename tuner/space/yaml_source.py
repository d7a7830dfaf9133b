"""Safe YAML loading that remembers the line of every key, for located error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tuner.errors import InputError


@dataclass(frozen=True)
class YamlDocument:
    """A parsed space file: its plain data and the 1-based line of each dotted key."""

    path: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        """Line of ``key``, or of its closest ancestor present in the file."""
        parts = key.split(".") if key else []
        while parts:
            found = self.lines.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return None

    def error(self, key: str, message: str) -> InputError:
        """An InputError located at ``key`` in this file."""
        return InputError(message=message, key=key, file=self.path, line=self.line_of(key))


def load_yaml(path: str | Path) -> YamlDocument:
    """Read ``path`` with ``yaml.safe_load`` semantics, refusing duplicate keys."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", file=shown) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a YAML file", file=shown) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", file=shown) from None
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror})", file=shown) from None
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str) -> YamlDocument:
    """Parse YAML text; errors name ``shown`` and the offending line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        if node is not None:
            _collect_lines(node, (), lines, shown)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or str(error)
        if "could not determine a constructor" in problem:
            problem = f"{problem.split('for the tag')[-1].strip()} tags are refused: only plain YAML data is read"
        raise InputError(f"invalid YAML: {problem}", file=shown, line=line) from None
    except yaml.YAMLError as error:
        raise InputError(f"invalid YAML: {error}", file=shown) from None
    finally:
        loader.dispose()
    return YamlDocument(path=shown, data=data, lines=lines)


def _collect_lines(node: yaml.Node, prefix: tuple[str, ...], lines: dict[str, int], shown: str) -> None:
    """Record the line of every mapping key and list item below ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            path = ".".join((*prefix, key))
            if key in seen:
                raise InputError(f"duplicate key (first given on line {seen[key]})", key=path, file=shown, line=line)
            seen[key] = line
            lines[path] = line
            _collect_lines(value_node, (*prefix, key), lines, shown)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = ".".join((*prefix, str(index)))
            lines[path] = item.start_mark.line + 1
            _collect_lines(item, (*prefix, str(index)), lines, shown)
