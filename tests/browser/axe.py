"""axe-core in the browser tests: WCAG 2.1 A and AA checks on pages served by a live server.

The pages carry no script and their CSP forbids scripts. axe is JavaScript, so it runs in a tab of its own
context (`axe_tab`) with JavaScript enabled and the CSP bypassed: that context exists only in the test and only
for running axe; the reporter's own tabs (the `page` fixture) keep JavaScript off. axe-core comes from npm
(package.json at the repository root, installed by `make test`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def _axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run `make test` (or `npm ci`) to install axe-core")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@contextmanager
def axe_tab(browser: Any) -> Iterator[Any]:
    """A tab in a separate context with JavaScript on and the CSP bypassed, for axe only."""
    context = browser.new_context(java_script_enabled=True, bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page as loaded; one dict per violated rule.

    Each dict has `id`, `impact`, `help` and `nodes` (the CSS targets and axe's failure summary), enough to
    read an assertion message without opening a browser.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(  # type: ignore[no-any-return]
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
             .then(result => result.violations.map(v => ({
                 id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))""",
        WCAG_21_AA,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations as readable lines for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}: {node['summary']}" for node in violation["nodes"])
    return "\n".join(lines)
