"""WCAG 1.4.11 non-text contrast, computed from the stylesheet's own colours: the edges of inputs and the
focus ring stand out at 3:1 or more against every background they sit on."""

from __future__ import annotations

import re

import pytest

from app.config import ROOT

CSS = (ROOT / "static" / "meldkluis.css").read_text(encoding="utf-8")


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*\{([^}]*)\}", CSS)
    assert root
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})", root.group(1)))


def _rule(selector_part: str) -> str:
    """The declarations of the first rule whose selector contains `selector_part`."""
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        if selector_part in selectors:
            return body
    raise AssertionError(f"no rule for {selector_part}")


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_ratio_matches_known_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#8fa1a9", "#ffffff") < 3  # the old input border (2.7:1) fails
    assert contrast("#f2b441", "#ffffff") < 3  # the old focus ring (1.9:1) fails


def test_input_edges_and_focus_ring_reach_3_to_1_on_every_background() -> None:
    colours = _variables()
    assert re.search(r"border:\s*1px solid var\(--field-border\)", _rule("input[type=text]"))
    assert re.search(r"outline:\s*3px solid var\(--focus\)", _rule("input:focus"))
    assert "var(--field-border)" in _rule("button.secondary")
    backgrounds = {"white input/page": "#ffffff", "card": colours["card"], "page": colours["bg"]}
    for name in ("field-border", "focus", "err"):
        for where, background in backgrounds.items():
            ratio = contrast(colours[name], background)
            assert ratio >= 3, f"--{name} on {where}: {ratio:.2f}:1"
