"""The JSON contract of `--format json`: exactly what `json.dumps(model.model_dump(mode="json"), indent=2)` writes,
from pydantic's own serializer (about 8x faster on a large sheet, where the standard library's indented
encoder is pure Python).

pydantic and the standard library differ in four ways, each undone here: non-ASCII text (escaped as
`\\uXXXX`, DEL included), floats in [1e-5, 1e-4) (pydantic writes `0.00001`, Python `1e-05`), one-digit
negative exponents (`3e-7` against `3e-07`), and infinities and NaN (`Infinity`, `NaN` through the models'
`ser_json_inf_nan`). With `indent=2` every number stands alone at the end of its line, and no string can
end a line without its closing quote, so the patterns below only ever meet numbers.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, TextIO

from pydantic import BaseModel, TypeAdapter

# A long tuple of models (a report's tests) is written this many at a time, so that the text of a report of
# 60,000 tests (150 MB, twice that while pydantic hands it over) never exists whole.
CHUNK_ITEMS = 2_000

# Each pattern starts with its literal text, so that the search skips ahead to it (a pattern that starts with
# a look-behind is tried at every character of a file of 100 MB). A sign stays where it is: repr(-x) is "-"
# and repr(x).
_SMALL = re.compile(r"0\.0000(?<=[ -]0\.0000)\d+(?=,?$)", re.MULTILINE)
_SHORT_EXPONENT = re.compile(r"e-(?<=\de-)(\d)(?=,?$)", re.MULTILINE)


def _repr(match: re.Match[str]) -> str:
    return repr(float(match[0]))


def as_json(model: BaseModel) -> str:
    """`model` as indented JSON, byte for byte as the standard library writes its `model_dump(mode="json")`."""
    return _standard(model.model_dump_json(indent=2, ensure_ascii=True))


def write_json(model: BaseModel, out: TextIO) -> None:
    """`as_json(model)` and a newline written to `out`; each long tuple of models a chunk at a time."""
    streamed = {
        name: items
        for name, items in model
        if isinstance(items, tuple) and len(items) > CHUNK_ITEMS and _one_model_class(items) is not None
    }
    rest = as_json(model.model_copy(update=dict.fromkeys(streamed, ())) if streamed else model)
    for name, items in streamed.items():
        # Only a key at depth one starts a line with two spaces and a quote: JSON strings escape newlines.
        empty = f'\n  "{name}": []'
        before, rest = rest.split(empty, 1)
        out.write(f'{before}\n  "{name}": [\n')
        for start in range(0, len(items), CHUNK_ITEMS):
            out.write((",\n" if start else "") + _items_json(name, items[start : start + CHUNK_ITEMS]))
        out.write("\n  ]")
    out.write(rest + "\n")


def _one_model_class(items: tuple[Any, ...]) -> type[BaseModel] | None:
    kind = type(items[0])
    if not issubclass(kind, BaseModel) or any(type(item) is not kind for item in items):
        return None
    return kind


@cache
def _field_adapter(kind: type[BaseModel]) -> TypeAdapter[dict[str, tuple[BaseModel, ...]]]:
    return TypeAdapter(dict[str, tuple[kind, ...]])  # type: ignore[valid-type]


def _items_json(name: str, items: tuple[BaseModel, ...]) -> str:
    """The lines of `items` as they stand inside the field `name` of an indented object: serialised as
    `{"name": [...]}`, whose items pydantic indents to that depth, without its first two and last two lines."""
    adapter = _field_adapter(type(items[0]))
    text = adapter.dump_json({name: items}, indent=2, ensure_ascii=True).decode()
    opening = f'{{\n  "{name}": [\n'
    return _standard(text[len(opening) : -len("\n  ]\n}")])


def _standard(text: str) -> str:
    """pydantic's JSON text (whole lines of it) as the standard library writes it."""
    if "\x7f" in text:
        text = text.replace("\x7f", "\\u007f")
    if "0.0000" in text:
        text = _SMALL.sub(_repr, text)
    if "e-" in text:
        text = _SHORT_EXPONENT.sub(r"e-0\1", text)
    return text
