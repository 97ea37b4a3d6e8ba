"""From tabs of raw cells to validated experiments and cell-referenced problems.

Shared by every source (CSV, xlsx, Google Sheets): a source only has to return `Tab`s.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.models import (
    ChannelRoute,
    Kind,
    Problem,
    SheetData,
    Tab,
    TabReading,
)
from analysis.reading.across_tabs import (
    Part,
    cells_read,
    nothing_to_compare,
    one_table_across_tabs,
    over_traffic,
    same_day_in_two_tabs,
    without_silent_arms,
)
from analysis.reading.cells import (
    DateOrder,
    normalise_header,
)
from analysis.reading.channels import parse_channels
from analysis.reading.exports import (
    Override,
    consumed_reading,
    parse_setup,
    pivot_conversion_actions,
    recognise,
    with_pivot,
)
from analysis.reading.hand_made import find_layout, hand_made_reading, overridden, parse_results
from analysis.reading.hints import is_reserved, looks_like_data, not_read, with_amounts
from analysis.reading.row_level import recognise_row_level
from analysis.reading.specs import specs_of

TRAFFIC_COLUMNS = ["campaign", "test", "variant", "date", "visitors", "spend"]


CONVERSION_COLUMNS = ["campaign", "test", "variant", "date", "metric", "kind", "visitors", "conversions"]


def parse_workbook(tabs: Iterable[Tab], currency: str = "$", date_order: DateOrder = "month-first") -> SheetData:
    """Every Results tab and the Channels tab; other tabs are ignored quietly.

    `currency` is the symbol for money when a tab's Spend cells show none (`840` rather than `$840`);
    `date_order` reads a Date column whose every date fits both orders (`01/12/2026`) on a sheet without a
    locale (a file)."""
    tabs = list(tabs)
    # A tab the source did not read to its end says so first: every verdict on it rests on its first rows.
    problems: list[Problem] = [Problem(cell=tab.name, message=tab.note) for tab in tabs if tab.note]
    channels: list[ChannelRoute] = []
    tabs_read: list[str] = []
    readings: list[TabReading] = []
    parts: list[Part] = []
    overrides: list[Override] = []
    for tab in tabs:
        if tab.name.strip().lower() == "setup":
            overrides.extend(parse_setup(tab, problems))
    pivoted = pivot_conversion_actions(tabs, overrides)
    problems.extend(pivoted.problems)
    for tab in pivoted.tabs:
        if tab.name in pivoted.consumed:
            readings.append(consumed_reading(pivoted.consumed[tab.name]))
            tabs_read.append(tab.name)
            continue
        if tab.name.strip().lower() == "channels":
            channels.extend(parse_channels(tab, problems))
            tabs_read.append(tab.name)
            continue
        if tab.name.strip().lower() == "setup":
            tabs_read.append(tab.name)
            continue
        export_currency: str | None = None
        tried: list[Problem] = []
        layout = find_layout(tab, tried, overrides) if not overridden(tab, overrides) else None
        export_reading: TabReading | None = None
        if layout is not None:
            # Conversion actions pivoted onto this tab's rows come from an export, fractions and all.
            layout.fractional = tab.name in pivoted.pivots
            problems.extend(tried)
            parsed_tab = tab
        else:
            export = recognise_row_level(tab, overrides) or recognise(tab, overrides)
            if export is None:
                problems.extend(tried)
                if not is_reserved(tab):
                    readings.append(unread := not_read(tab, overrides))
                    if not tried and looks_like_data(unread):
                        problems.append(Problem(cell=tab.name, message=unread.summary))
                continue
            parsed_tab = export.tab
            layout = find_layout(parsed_tab, problems)
            if layout is None:
                continue
            layout.fractional = export.fractional
            layout.export = True
            problems.extend(export.problems)
            export_currency = export.currency
            export_reading = export.reading
        tabs_read.append(tab.name)
        frame, tab_metrics, tab_currency, over_rows = parse_results(parsed_tab, layout, problems, date_order)
        reading = export_reading or with_amounts(
            hand_made_reading(tab.name, layout), parsed_tab.rows[layout.header_row]
        )
        readings.append(with_pivot(cells_read(reading, layout, over_rows), pivoted.pivots.get(tab.name)))
        body = parsed_tab.rows[layout.header_row + 1 :]
        if frame.empty and not any(any(normalise_header(c) for c in row) for row in body):
            readings[-1] = not_read(tab, overrides)  # a header and nothing under it
        named_by_tab = export_reading is not None and bool(len(frame)) and bool((frame["campaign"] == tab.name).all())
        frame["origin"] = tab.name
        frame["row"] = frame.index.to_numpy()
        frame["column"] = layout.columns["variant"]
        header = tuple(normalise_header(cell) for cell in parsed_tab.rows[layout.header_row])
        parts.append(
            Part(
                tab.name,
                frame,
                tab_metrics,
                layout.traffic_label,
                export_currency or tab_currency or currency,
                header,
                tuple(" ".join(str(cell).split()) for cell in tab.rows[layout.header_row] if normalise_header(cell)),
                named_by_tab,
            )
        )

    renamed = one_table_across_tabs(parts)
    metrics: dict[tuple[str, str], dict[str, Kind]] = {}
    labels: dict[tuple[str, str], str] = {}
    currencies: dict[tuple[str, str], str] = {}
    conversion_parts: list[pd.DataFrame] = []
    for part in parts:
        frame = part.frame
        for key in dict.fromkeys(zip(frame["campaign"], frame["test"], strict=True)):
            labels.setdefault(key, part.traffic_label)
            currencies.setdefault(key, part.currency)
            known = metrics.setdefault(key, {})
            for metric in part.metrics:
                known.setdefault(metric.name, metric.kind)
    readings = [
        r.model_copy(update={"summary": f"{r.summary} · one table with tabs {renamed[r.tab]}"})
        if r.tab in renamed
        else r
        for r in readings
    ]

    all_rows = (
        pd.concat([part.frame for part in parts], ignore_index=True)
        if parts
        else pd.DataFrame(columns=[*TRAFFIC_COLUMNS, "control", "planned", "status", "origin", "row", "column"])
    )
    if len(parts) > 1:
        again, duplicate_problems = same_day_in_two_tabs(all_rows)
        problems.extend(duplicate_problems)
        all_rows = all_rows[~again.to_numpy()]
    for part in parts:
        mine = all_rows if len(parts) == 1 else all_rows[all_rows["origin"] == part.tab]
        for metric in part.metrics:
            counted = mine[mine[f"m{metric.column}"].notna()]
            piece = counted[["campaign", "test", "variant", "date", "visitors"]].copy()
            piece["metric"] = metric.name
            piece["kind"] = metric.kind
            piece["conversions"] = counted[f"m{metric.column}"]
            conversion_parts.append(piece)
    conversions = (
        pd.concat(conversion_parts, ignore_index=True) if conversion_parts else pd.DataFrame(columns=CONVERSION_COLUMNS)
    )
    if not conversions.empty:
        keep, untested, over_problems = over_traffic(conversions, labels)
        conversions = conversions[keep.to_numpy()]
        problems.extend(over_problems)
        for campaign, test, name in untested:
            metrics[(campaign, test)].pop(name, None)
    all_rows, conversions, silent_problems = without_silent_arms(all_rows, conversions)
    specs, test_problems = specs_of(all_rows, metrics, labels, currencies)
    readings = nothing_to_compare(readings, parts, {(s.campaign, s.test) for s in specs})
    # A tab not read is said when it looks like data, and every one of them when nothing was tested.
    readings = [r for r in readings if r.read or looks_like_data(r) or not specs]
    problems.extend(silent_problems)
    problems.extend(test_problems)
    return SheetData(
        tests=tuple(specs),
        traffic=all_rows[TRAFFIC_COLUMNS].reset_index(drop=True),
        conversions=conversions[CONVERSION_COLUMNS].reset_index(drop=True),
        channels=tuple(channels),
        problems=tuple(problems),
        tabs_read=tuple(tabs_read),
        tabs=tuple(readings),
    )
