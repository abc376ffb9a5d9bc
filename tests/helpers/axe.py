"""axe-core (node_modules/axe-core, from npm) run on a page in headless Chromium: its serious and critical
violations of WCAG 2.1 A/AA, one line each.

axe is injected as an inline script, which the pages' CSP (rightly) refuses: the page must be opened
with ``bypass_csp=True``.
"""

from __future__ import annotations

from core.settings import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: The rules of WCAG 2.0 and 2.1, levels A and AA, that axe checks.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = {"serious", "critical"}

RUN_AXE_JS = """
async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}
"""


def serious_violations(page, where: str) -> list[str]:  # noqa: ANN001 - a Playwright page
    """The serious and critical WCAG 2.1 A/AA violations on ``page`` as it is now, each naming ``where``."""
    page.add_script_tag(path=str(AXE))
    return [
        f"{where}: {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}"
        for v in page.evaluate(RUN_AXE_JS, TAGS)
        if v["impact"] in FAILING
    ]
