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
from typing import TextIO

from pydantic import BaseModel

# Written a piece at a time (whole lines), so that a 150 MB report is never copied whole.
PIECE_CHARS = 8_000_000

# Each pattern starts with its literal text, so that the search skips ahead to it (a pattern that starts with
# a look-behind is tried at every character of a file of 100 MB). A sign stays where it is: repr(-x) is "-"
# and repr(x).
_SMALL = re.compile(r"0(?<=[ -]0)\.0000\d+(?=,?$)", re.MULTILINE)
_SHORT_EXPONENT = re.compile(r"e-(?<=\de-)(\d)(?=,?$)", re.MULTILINE)


def _repr(match: re.Match[str]) -> str:
    return repr(float(match[0]))


def as_json(model: BaseModel) -> str:
    """`model` as indented JSON, byte for byte as the standard library writes its `model_dump(mode="json")`."""
    return _standard(model.model_dump_json(indent=2, ensure_ascii=True))


def write_json(model: BaseModel, out: TextIO) -> None:
    """`as_json(model)` and a newline written to `out`, piece by piece."""
    text = model.model_dump_json(indent=2, ensure_ascii=True)
    start = 0
    while start < len(text):
        end = text.find("\n", start + PIECE_CHARS)
        end = len(text) if end < 0 else end + 1
        out.write(_standard(text[start:end]))
        start = end
    out.write("\n")


def _standard(text: str) -> str:
    """pydantic's JSON text (whole lines of it) as the standard library writes it."""
    if "\x7f" in text:
        text = text.replace("\x7f", "\\u007f")
    if "0.0000" in text:
        text = _SMALL.sub(_repr, text)
    if "e-" in text:
        text = _SHORT_EXPONENT.sub(r"e-0\1", text)
    return text
