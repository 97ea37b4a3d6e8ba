"""Local CSVs as Excel and the ad platforms save them: UTF-16 with BOM, Windows-1252, tabs and semicolons."""

from __future__ import annotations

import pytest

from bot.errors import SheetUnavailable
from bot.sources.local import read_local

ROWS = [["Campaign", "Variant", "Visitors", "Purchases (macro)"], ["Süd", "A", "1,000", "10"]]


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-16-be", "\t"), ("cp1252", ";"), ("cp1252", ",")],
)
def test_encodings_and_separators_are_sniffed(tmp_path, encoding, separator):
    text = "\r\n".join(separator.join(f'"{c}"' if "," in c and separator == "," else c for c in r) for r in ROWS)
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "results.csv"
    path.write_bytes(data)
    (tab,) = read_local(str(path))
    assert tab.rows == ROWS


def test_a_file_that_cannot_be_read_is_one_sentence(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\x01\x02PK\x00\x00")
    with pytest.raises(SheetUnavailable, match=r"Could not read binary\.csv"):
        read_local(str(path))
