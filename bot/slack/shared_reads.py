"""What commands and Home tabs share between them: one analysis per sheet read, one range over time per read
and set of charted tests, one drawing per chart."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future

from analysis.models import Report, SheetData, Tab, TestResult
from analysis.range_paths import RangePath
from bot.deps import Deps
from bot.service import analysed
from bot.slack.command_answer import DrawChart, ReadPaths
from bot.sources.cache import source_key


class SharedReports:
    """One parse and analysis per sheet read: commands that got the same tabs (from the shared read behind
    `Deps.read_tabs`) share the result instead of each analysing the sheet again. The last read of each of the
    last `keep` sheets is kept (channels of many clients read many sheets)."""

    def __init__(self, keep: int = 32) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._last: OrderedDict[str, tuple[list[Tab], SheetData, Report]] = OrderedDict()

    def get(self, deps: Deps, spec: str) -> tuple[SheetData, Report]:
        tabs = deps.read_tabs(spec)
        key = source_key(spec)
        with self._lock:
            last = self._last.get(key)
            if last is not None and last[0] is tabs:
                self._last.move_to_end(key)
                return last[1], last[2]
            data, report = analysed(deps, tabs, spec)
            self._last[key] = (tabs, data, report)
            while len(self._last) > self._keep:
                self._last.popitem(last=False)
            return data, report


class SharedPaths:
    """The decision's range over time once per sheet read and set of charted tests: every channel whose status
    answer charts the same tests of the same read uses one `ReadPaths`, computed by the first chart drawn. A burst
    of commands from many channels used to compute it once per answer, putting charts seconds behind verdicts."""

    def __init__(self, keep: int = 32) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._last: OrderedDict[tuple[int, tuple[tuple[str, str], ...]], tuple[SheetData, ReadPaths]] = OrderedDict()

    def get(
        self,
        data: SheetData,
        charted: Sequence[tuple[str, str]],
        compute: Callable[[], Mapping[tuple[str, str, str, str], RangePath]],
    ) -> ReadPaths:
        key = (id(data), tuple(charted))
        with self._lock:
            last = self._last.get(key)
            if last is not None and last[0] is data:
                self._last.move_to_end(key)
                return last[1]
            paths = ReadPaths(compute)
            self._last[key] = (data, paths)
            while len(self._last) > self._keep:
                self._last.popitem(last=False)
            return paths


class DrawnCharts:
    """Each test's chart drawn once per sheet read: every channel whose answer shows that test (the same object,
    from the shared analysis of `SharedReports`) uploads the same PNG. A burst of commands used to draw one
    chart per test per channel, CPU work that put the last charts minutes behind their verdicts.

    The last `keep` tests' charts are kept; concurrent askers of a chart being drawn wait for that drawing.
    """

    def __init__(self, draw: DrawChart, keep: int = 64) -> None:
        self._draw = draw
        self._keep = keep
        self._lock = threading.Lock()
        self._drawn: OrderedDict[int, tuple[TestResult, Future[bytes]]] = OrderedDict()

    def __call__(self, test: TestResult, path: RangePath | None = None) -> bytes:
        with self._lock:
            entry = self._drawn.get(id(test))
            mine = entry is None or entry[0] is not test
            if mine:
                entry = (test, Future())
                self._drawn[id(test)] = entry
                while len(self._drawn) > self._keep:
                    self._drawn.popitem(last=False)
            else:
                self._drawn.move_to_end(id(test))
        assert entry is not None
        drawing = entry[1]
        if mine:
            try:
                drawing.set_result(self._draw(test, path) if path is not None else self._draw(test))
            except BaseException as error:
                drawing.set_exception(error)
                with self._lock:
                    if self._drawn.get(id(test)) is entry:
                        del self._drawn[id(test)]  # a failed drawing is tried again by the next asker
        return drawing.result()
