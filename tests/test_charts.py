"""Charts: SVG, deterministic bytes, cached by content, legible on light and dark pages."""

from __future__ import annotations

import re

import pytest

from pmkb.pages import chart_style, charts

QUARTERS = ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]


@pytest.fixture(autouse=True)
def fresh_cache():
    charts.clear_cache()
    yield
    charts.clear_cache()


def bars(values=(1, 2, 0, 3)) -> dict:
    return charts.bar_spec("Incidents per quarter by severity", QUARTERS, {"SEV1": list(values), "SEV2": [0, 1, 1, 0]},
                           ylabel="incidents", xlabel="quarter (UTC)", colors=chart_style.SEVERITY_COLORS)


def every_kind() -> list[dict]:
    panel = {"title": "Time to detect", "mean": [30.0, None, 90.0, 20.0], "median": [20.0, None, 60.0, 15.0],
             "p90": [60.0, None, 300.0, 40.0], "n": [3, 0, 12, 8]}
    return [
        bars(),
        charts.line_spec("Recurrence rate", QUARTERS, {"rate": [0.0, None, 0.5, 0.25]}, ylabel="share",
                         percent=True, weak=[True, False, False, True], weak_note="Hollow: n < 5"),
        charts.durations_spec("Durations", QUARTERS, [panel, {**panel, "title": "Time to resolve"}]),
        charts.box_spec("Time to resolve by severity", {"SEV1": [30.0, 45.0], "SEV2": [10.0, 100.0, 1000.0, 3000.0, 6000.0],
                                                        "SEV3": []}, ylabel_prefix="time to resolve"),
        charts.hbar_spec("Most recurring", ["Schema change", "Missing alert"], {"incidents": [5, 3], "recurrences": [2, 1]},
                         xlabel="incidents"),
    ]


def test_every_kind_renders_titled_svg_with_units():
    for spec in every_kind():
        svg = charts.render(spec)
        assert svg.startswith(b"<?xml") and b"<svg" in svg
        assert b"<dc:date>" not in svg                    # no build date: same data, same bytes
        assert f"<!-- {spec['title']} -->".encode() in svg   # text is drawn as paths, labelled in comments
    text = charts.render(every_kind()[2]).decode()
    assert "<!-- hours -->" in text or "<!-- minutes -->" in text


def test_same_input_same_bytes_even_when_redrawn():
    first = charts.render(bars())
    charts.clear_cache()
    again = charts.render(bars())
    assert first == again
    assert charts.render(bars((1, 2, 0, 4))) != first


def test_cache_by_content_does_not_redraw(monkeypatch):
    drawn = []
    real = charts._draw
    monkeypatch.setattr(charts, "_draw", lambda spec: drawn.append(spec["title"]) or real(spec))
    a = charts.render(bars())
    b = charts.render(bars())                      # a rebuild with unchanged numbers
    assert a == b and drawn == ["Incidents per quarter by severity"]
    charts.render(bars((9, 9, 9, 9)))                # the numbers changed: drawn again
    assert len(drawn) == 2
    info = charts.cache_info()
    assert info["hits"] == 1 and info["misses"] == 2 and info["size"] == 2


def test_render_many_in_worker_processes_gives_the_same_bytes(monkeypatch):
    specs = [bars((i, 1, 2, 3)) for i in range(charts.PARALLEL_MIN)] + [bars((0, 1, 2, 3))]   # one repeated
    parallel = charts.render_many(specs, workers=2)
    charts.clear_cache()
    serial = [charts.render(s) for s in specs]
    assert parallel == serial
    assert parallel[0] == parallel[-1]


def test_transparent_background_and_grey_text():
    svg = charts.render(bars()).decode()
    # no opaque page-coloured rectangle behind the chart: it sits on light and dark pages
    assert not re.search(r'fill:\s*#(?:ffffff|000000)\b', svg, re.I)
    assert chart_style.TEXT.lower() in svg.lower()
    assert "#e15759" in svg.lower()                  # the severity palette


def contrast(hex_a: str, hex_b: str) -> float:
    def lum(h: str) -> float:
        rgb = [int(h.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted([lum(hex_a), lum(hex_b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def turned_around(hex_colour: str) -> str:
    """The colour as the stylesheet shows it on the slate scheme: CSS `invert(1)` then
    `hue-rotate(180deg)` (the filter effects specification's matrix)."""
    rgb = [1 - int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    cos, sin = -1.0, 0.0
    m = [[0.213 + cos * 0.787 - sin * 0.213, 0.715 - cos * 0.715 - sin * 0.715, 0.072 - cos * 0.072 + sin * 0.928],
         [0.213 - cos * 0.213 + sin * 0.143, 0.715 + cos * 0.285 + sin * 0.140, 0.072 - cos * 0.072 - sin * 0.283],
         [0.213 - cos * 0.213 - sin * 0.787, 0.715 - cos * 0.715 + sin * 0.715, 0.072 + cos * 0.928 + sin * 0.072]]
    out = [min(1.0, max(0.0, sum(m[i][j] * rgb[j] for j in range(3)))) for i in range(3)]
    return "#" + "".join(f"{round(c * 255):02x}" for c in out)


def test_colours_read_on_the_light_and_the_dark_scheme():
    # WCAG AA: 4.5:1 for text, 3:1 for graphical objects; on Material's default
    # background as drawn, and on its slate background as the stylesheet turns them.
    assert contrast(chart_style.TEXT, "#ffffff") >= 4.5
    assert contrast(turned_around(chart_style.TEXT), "#1e2129") >= 4.5
    for colour in charts.PALETTE + chart_style.SEVERITY_COLORS:
        assert contrast(colour, "#ffffff") >= 3.0, colour
        assert contrast(turned_around(colour), "#1e2129") >= 3.0, colour


def test_names_with_dollar_signs_are_not_mathtext():
    svg = charts.render(charts.hbar_spec("Costs", ["$5 plan", "50% $off$"], {"incidents": [1, 2]}, xlabel="incidents"))
    assert b"<svg" in svg


def test_units_follow_the_largest_value():
    assert chart_style.unit_for([5.0, None, 90.0]) == ("minutes", 1.0)
    assert chart_style.unit_for([30.0, 600.0]) == ("hours", 60.0)
    assert chart_style.unit_for([30.0, 5 * 1440.0]) == ("days", 1440.0)
    assert chart_style.unit_for([]) == ("minutes", 1.0)


def test_many_quarters_and_empty_series_do_not_fail():
    labels = [f"{y}-Q{q}" for y in range(2015, 2026) for q in range(1, 5)]
    svg = charts.render(charts.bar_spec("Long history", labels, {"SEV1": [0] * len(labels)}, ylabel="incidents"))
    assert b"<svg" in svg
    assert b"<svg" in charts.render(charts.line_spec("Nothing", ["2025-Q1"], {"rate": [None]}, ylabel="share"))
    assert b"<svg" in charts.render(charts.box_spec("Nothing", {"SEV1": []}, ylabel_prefix="time to resolve"))
