"""Text from a file, a folder or a run made safe to show: every character a terminal or a browser would not
show as itself is written as its escape, so a hostile name can neither break a line nor hide or reorder text.
"""

from __future__ import annotations

SHOWN_CHARACTERS = 80  # of a value quoted in a message: enough to recognise it, short enough to stay one line


def visible(text: str, keep: str = "") -> str:
    r"""``text`` with newlines, control characters and bidirectional marks (U+202E) escaped as ``\n``,
    ``\x1b``, ``\u202e``, except the characters in ``keep``."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char in keep else ascii(char)[1:-1] for char in text)


def quoted(value: object) -> str:
    """``repr(value)``, cut to a readable length: a message may quote a megabyte string or a huge number."""
    shown = repr(value)
    if len(shown) <= SHOWN_CHARACTERS:
        return shown
    return f"{shown[: SHOWN_CHARACTERS - 1]}… ({len(shown):,} characters)"
