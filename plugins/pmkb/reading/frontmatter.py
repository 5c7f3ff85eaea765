"""Reading one incident file: bytes -> text -> front matter and body."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 1024 * 1024  # SPEC: an incident file larger than 1 MiB is an error


class ReadProblem(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True, slots=True)
class Split:
    front: str        # the YAML text, LF line endings
    body: str         # the Markdown after the closing ---
    body_line: int    # 1-based line of the file where the body starts


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM; LF or CRLF. Bad bytes are a ReadProblem with their place."""
    if len(data) > MAX_BYTES:
        raise ReadProblem(f"the file is {len(data):,} bytes; an incident file may be at most 1 MiB "
                          "(move logs and dumps into a linked asset)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)  # utf-8-sig counts after the BOM
        before = data[:start]
        line = before.count(b"\n") + 1
        # in characters, as editors count them: the bytes before the bad one on its line are valid UTF-8
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8-sig")) + 1
        raise ReadProblem(f"the file is not valid UTF-8 (byte 0x{data[start]:02x}); save it as UTF-8", line, column) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _closing_line(text: str, newline: int) -> tuple[int, int] | None:
    """(start, end) of the first line after `newline` that is '---' then only spaces or tabs.

    str.find is several times faster than the equivalent regex (^---[ \t]*$, multi-line)."""
    pos = newline
    while True:
        pos = text.find("\n---", pos)
        if pos < 0:
            return None
        end = text.find("\n", pos + 4)
        if end < 0:
            end = len(text)
        if not text[pos + 4:end].strip(" \t"):
            return pos + 1, end
        pos += 1


def split(text: str) -> Split:
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    if first.rstrip(" \t") != "---":
        raise ReadProblem("the file must start with a line '---' followed by the YAML front matter "
                          "(copy the layout of `pmkb new`)")
    if first_end < 0:
        raise ReadProblem("the front matter is not closed: add a line '---' after it")
    close = _closing_line(text, first_end)
    if close is None:
        raise ReadProblem("the front matter is not closed: add a line '---' after it")
    start, end = close
    front = text[first_end + 1: start]
    body_start = end + 1
    body_line = text.count("\n", 0, end) + 2
    return Split(front, text[body_start:], body_line)
