"""JSON from outside (client messages, recording headers, settings files), parsed with bounds.

``json.loads`` recurses once per nesting level, so a text of a few thousand ``[`` raises
``RecursionError`` from deep inside the parser; it also turns ``1e400`` into infinity, reads
``NaN``, and makes 10**400 into a 400-digit int. ``loads`` refuses all of these up front::

    from game import safe_json

    try:
        data = safe_json.loads(text, max_bytes=64 * 1024, max_depth=16)
    except ValueError as exc:  # one line saying why: too big, too deep, not JSON, ...
        ...

Sizes are checked before anything is parsed and depth is measured by a scan without
recursion, so the work done on a hostile text is bounded by ``max_bytes``.
"""

from __future__ import annotations

import json
import math
import re

DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_MAX_DEPTH = 32
MAX_INT_DIGITS = 20  # enough for any 64-bit integer, signed or not

# The characters that matter to nesting: brackets, and what starts, escapes or ends a string.
_STRUCTURE = re.compile(r'[][{}"\\]')


def loads(
    text: str | bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> object:
    """Parse JSON ``text`` no longer than ``max_bytes`` (UTF-8) and nested at most
    ``max_depth`` arrays/objects deep; numbers must be finite and integers at most
    ``MAX_INT_DIGITS`` digits. Raises ``ValueError`` with a one-line reason otherwise."""
    if isinstance(text, bytes | bytearray | memoryview):
        size = len(text)
        if size > max_bytes:
            raise ValueError(f"JSON is {size} bytes, over the {max_bytes}-byte limit")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("JSON is not valid UTF-8") from None
    else:
        # len(text) <= UTF-8 size <= 4 * len(text): only encode when it could matter.
        if len(text) > max_bytes or (
            4 * len(text) > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes
        ):
            raise ValueError(f"JSON is over the {max_bytes}-byte limit")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise ValueError(f"JSON is nested {depth} levels deep, over the limit of {max_depth}")
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
        )
    except RecursionError:  # cannot happen below max_depth; kept as a last line of defence
        raise ValueError("JSON is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {str(exc).splitlines()[0][:200]}") from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in ``text``, brackets inside strings ignored.
    A loop over the structural characters only, never recursion; it does not validate."""
    depth = deepest = 0
    in_string = False
    skip_at = -1  # the position of a character escaped by a backslash
    for match in _STRUCTURE.finditer(text):
        position = match.start()
        if position == skip_at:
            continue
        char = match.group()
        if in_string:
            if char == "\\":
                skip_at = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits)} digits is too large")
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} does not fit a float")
    return value


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def load_file(path, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH):
    """``loads`` on a file's contents, reading no more than ``max_bytes`` + 1 bytes of it.
    OSError (missing, unreadable) passes through; everything else is a one-line ValueError."""
    with open(path, "rb") as file:
        data = file.read(max_bytes + 1)
    return loads(data, max_bytes, max_depth)
