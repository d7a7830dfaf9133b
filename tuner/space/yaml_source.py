"""Safe YAML loading that remembers the line of every key, for located error messages.

``yaml.safe_load`` builds no objects, but it still trusts the size of what it reads: a few lines of aliases
can stand for billions of values (the "billion laughs"), an alias inside its own anchor is a loop, and deep
nesting exhausts Python's recursion. The loader here counts as it composes and refuses each in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tuner.errors import InputError
from tuner.text import quoted

# A space file is a few hundred bytes, about 100 values and 4 levels deep; each limit leaves room for a list
# of a thousand class names while keeping a hostile file's cost small: PyYAML reads about 20,000 values a second.
MAX_BYTES = 256 * 1024
MAX_VALUES = 10_000  # keys and values, each alias counted as everything it stands for
MAX_DEPTH = 20
STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"


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
    """Read ``path`` with ``yaml.safe_load`` semantics, refusing duplicate keys and oversized documents."""
    shown = str(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)  # never more: the path may be a huge file or a device
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError("no such file", file=shown) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a YAML file", file=shown) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", file=shown) from None
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror})", file=shown) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"is larger than {MAX_BYTES // 1024} KiB: a space file needs a few hundred bytes", file=shown)
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str) -> YamlDocument:
    """Parse YAML text; errors name ``shown`` and the offending line."""
    try:
        loader = _BoundedLoader(text, shown)
    except yaml.reader.ReaderError as error:  # the reader checks every character up front
        line = text.count("\n", 0, error.position) + 1
        raise InputError(f"invalid YAML: {_problem(error)}", file=shown, line=line) from None
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        if node is not None:
            _collect_lines(node, (), lines, shown)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise InputError(f"invalid YAML: {_problem(error)}", file=shown, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise InputError(f"invalid YAML: {_problem(error)}", file=shown) from None
    finally:
        loader.dispose()
    return YamlDocument(path=shown, data=data, lines=lines)


def _problem(error: yaml.YAMLError) -> str:
    """PyYAML's own words for ``error``, without the position it appends on lines of their own."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if "could not determine a constructor" in problem:
        return f"{problem.split('for the tag')[-1].strip()} tags are refused: only plain YAML data is read"
    return problem


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` that counts every node as it is composed, an alias as the whole node it repeats.

    It stops at the first node past a limit, before a hostile document is ever expanded; each refusal names the
    dotted key being read.
    """

    def __init__(self, text: str, shown: str) -> None:
        super().__init__(text)
        self.shown = shown
        self.keys: list[str] = []  # the dotted path of the node being composed
        self.values = 0  # nodes composed so far, aliases expanded
        self.sizes: dict[yaml.Node, tuple[int, int]] = {}  # each finished node: (values, levels) it expands to

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Compose one node, refusing it when it makes the document too large, too deep or circular."""
        entered = index is not None  # None: a mapping key, read before its value
        if entered:
            self.keys.append(_key_text(index))
        try:
            return self._counted(parent, index)
        finally:
            if entered:
                self.keys.pop()

    def _counted(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        depth = len(self.keys) + 1
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:  # an undefined alias is PyYAML's own error
                if target not in self.sizes:
                    self._refuse(event, f"alias *{event.anchor} repeats a node that contains it: loops are refused")
                values, levels = self.sizes[target]
                self._count(event, values, depth + levels - 1)
            return super().compose_node(parent, index)
        before = self.values
        self._count(event, 1, depth)
        node = super().compose_node(parent, index)
        children = [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) else []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        self.sizes[node] = (self.values - before, 1 + max((self.sizes[child][1] for child in children), default=0))
        return node

    def _count(self, event: yaml.Event, values: int, depth: int) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            self._refuse(event, f"holds more than {MAX_VALUES:,} keys and values (aliases counted where they are used)")
        if depth > MAX_DEPTH:
            self._refuse(event, f"is nested more than {MAX_DEPTH} levels deep")

    def _refuse(self, event: yaml.Event, message: str) -> None:
        line = event.start_mark.line + 1 if event.start_mark else None
        raise InputError(message, key=".".join(self.keys), file=self.shown, line=line)

    def fetch_flow_collection_start(self, token_class: type[yaml.Token]) -> None:
        """Refuse ``[`` or ``{`` past the depth limit as it is scanned: PyYAML's scanner takes time quadratic
        in the depth of flow nesting, long before the composer sees the nodes."""
        if self.flow_level >= MAX_DEPTH:
            message = f"is nested more than {MAX_DEPTH} levels deep"
            raise InputError(message, key=".".join(self.keys), file=self.shown, line=self.line + 1)
        super().fetch_flow_collection_start(token_class)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct one value; a scalar PyYAML matches but Python cannot build (``2001-02-30``, ``!!int x``,
        a 5,000-digit number) is a located YAML error rather than a ``ValueError``."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            kind = str(node.tag).rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{quoted(node.value)} is not a valid {kind}", node.start_mark
            ) from None


def _key_text(index: int | yaml.Node) -> str:
    """A list item's position, or the key of a mapping's value; "?" for a key that is itself a list or mapping."""
    if isinstance(index, int):
        return str(index)
    return str(index.value) if isinstance(index, yaml.ScalarNode) else "?"


def _collect_lines(node: yaml.Node, prefix: tuple[str, ...], lines: dict[str, int], shown: str) -> None:
    """Record the line of every mapping key and list item below ``node``; keys must be distinct text."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                raise InputError(f"keys must be text, not {kind}", key=".".join(prefix), file=shown, line=line)
            key = str(key_node.value)
            path = ".".join((*prefix, key))
            if key_node.tag not in (STR_TAG, MERGE_TAG):
                raise InputError(f"keys must be text (got {quoted(key)}): quote it", key=path, file=shown, line=line)
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
