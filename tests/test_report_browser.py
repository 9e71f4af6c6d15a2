"""Issue 31 §4: the HTML report fits the page in a real browser — no element wider than the viewport, no
horizontal scroll — at 1,400 and 800 px, and it says everything the CLI said about the run.

The browser is the distribution's Chromium (``apt-get install chromium``; ``$EMOFRAME_CHROMIUM`` names another
binary) driven by Playwright with a fresh profile; never a downloaded browser. Without one the test is
skipped, saying why; CI installs it (.ci/run).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli import main
from emoframe.data.synth import generate
from emoframe.plugin import registry as registry_module

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    found = os.environ.get("EMOFRAME_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


#: every element whose right edge passes the viewport, and the page's scroll width against its width
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) {
      wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} ${Math.round(r.left)}–${Math.round(r.right)}`);
    }
  }
  return {width, scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 10)};
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, str]:
    """A report written by `emoframe bench` over a corpus whose transcripts repeat across speakers (the
    transcript-overlap warning) with long component names in the labels; and what the CLI printed."""
    from emoframe.plugin.registry import Registry

    from . import toy_plugin

    root = tmp_path_factory.mktemp("browser")
    corpus = generate(root / "corpus", seed=0, speakers=3, per_class=1) / "manifest.csv"
    spec = {
        "name": "a benchmark whose name is long enough to wrap " * 3,
        "data": {"manifest": str(corpus)},
        "evaluation": {"protocol": "loso", "bootstrap": 20},
        "branches": {
            "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
            "text": {"extractor": "toy.words", "model": "toy.centroid"},
        },
        "fusion": ["fusion.late", "fusion.vote"],
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec))
    reg = Registry.from_entry_points(allow=[])
    reg.add_plugin(toy_plugin, name="toy")
    old, registry_module._default = registry_module._default, reg
    try:
        result = CliRunner().invoke(
            main, ["bench", str(root / "spec.yaml"), "-j", "1", "--workdir", str(root / "wd"), "--report", str(root)]
        )
    finally:
        registry_module._default = old
    assert result.exit_code == 0, result.output
    return root / "index.html", result.output


def test_the_report_says_every_warning_and_verdict_the_cli_printed(report):
    path, printed = report
    page = " ".join(path.read_text().split())
    import html

    text = html.unescape(page)
    warnings = [line.split("warning: ", 1)[1] for line in printed.splitlines() if line.startswith("warning: ")]
    assert any("transcript overlap" in w for w in warnings), printed  # the corpus was made to repeat them
    for w in warnings:
        assert w.strip() in text, w
    verdicts = [line.split(" — ")[0] for line in printed.splitlines() if line.startswith(("Fusion", "fusion"))]
    for v in verdicts:
        assert v.strip() in text, v
    for section in ("Contents", "Spec", "Versions", "emoframe", "toy.centroid", "numpy", "fusion.late"):
        assert section in text, section


@pytest.mark.skipif(
    chromium() is None, reason="no Chromium installed (apt-get install chromium, or set $EMOFRAME_CHROMIUM)"
)
@pytest.mark.parametrize("width", [1400, 800])
def test_the_report_fits_the_page_in_a_real_browser(report, tmp_path, width):
    from playwright.sync_api import sync_playwright

    path, _ = report
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile every time
            executable_path=chromium(),
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            found = page.evaluate(OVERFLOW)
            images = page.evaluate("() => [...document.images].map(i => i.complete && i.naturalWidth > 0)")
        finally:
            browser.close()
    assert found["scroll"] <= found["width"], found
    assert not found["wide"], found
    assert images and all(images)  # every chart loaded (embedded), and was measured above
