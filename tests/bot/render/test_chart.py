from __future__ import annotations

import io
import threading

from matplotlib.image import imread

from bot.render.chart import chart_filename, render_chart
from tests.bot.slack.factories import comparison, result

PNG = b"\x89PNG\r\n\x1a\n"


def pixels(png: bytes):
    return imread(io.BytesIO(png), format="png")


def test_one_png_per_test_micro_and_macro_side_by_side_readable_at_preview_size() -> None:
    png = render_chart(result())
    assert png.startswith(PNG)
    height, width = pixels(png).shape[:2]
    assert 800 <= width <= 1200  # downscaled about 2x in Slack's preview: labels of 13 pt stay legible
    assert width > height


def test_more_variants_make_a_taller_chart_not_more_charts() -> None:
    small = pixels(render_chart(result()))
    many = tuple(comparison(f"V{k}", conversions=100 + 10 * k) for k in range(6))
    tall = pixels(render_chart(result(comparisons=many)))
    assert tall.shape[0] > small.shape[0]


def test_missing_lift_and_missing_kind_still_draw() -> None:
    no_lift = comparison("B").model_copy(update={"lift": None, "lift_ci": (None, None)})
    assert render_chart(result(comparisons=(no_lift,))).startswith(PNG)
    assert render_chart(result(comparisons=())).startswith(PNG)


def test_charts_render_concurrently_without_shared_state() -> None:
    out: list[bytes] = []
    threads = [threading.Thread(target=lambda: out.append(render_chart(result()))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(out) == 4 and all(png.startswith(PNG) for png in out)


def test_chart_filename_is_safe() -> None:
    assert chart_filename(result("Spring/Sale <2026>")) == "spring-sale-2026-audience-test.png"


def test_a_cut_label_never_ends_on_its_separator() -> None:
    from bot.render.chart import _label

    assert _label(comparison("Black Friday Sale Variant"), True, True) == "Black Friday Sale Variant…"
    assert _label(comparison("B"), True, True) == "B · Cart views"
