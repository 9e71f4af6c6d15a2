"""Issue 31 §3: the documentation site holds every page of docs/ (the strict build itself is
`scripts/docs.sh`, run by CI), organised as tutorials / how-to / reference / explanation, and the README
links its pages."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def nav_pages(nav: list) -> dict[str, str]:
    """page path → the nav section it is under ('' at the top)."""
    out: dict[str, str] = {}

    def walk(items: list, section: str) -> None:
        for item in items:
            if isinstance(item, str):
                out[item] = section
                continue
            for title, value in item.items():
                if isinstance(value, list):
                    walk(value, section or title)
                else:
                    out[value] = section

    walk(nav, "")
    return out


def site() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def test_every_docs_page_is_in_the_site_nav():
    pages = nav_pages(site()["nav"])
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk == set(pages), f"not in mkdocs.yml's nav: {sorted(on_disk - set(pages))}; " + (
        f"in the nav but missing: {sorted(set(pages) - on_disk)}"
    )


def test_the_nav_is_tutorials_how_to_reference_explanation():
    sections = [next(iter(item)) for item in site()["nav"] if isinstance(item, dict)]
    assert sections[1:] == ["Tutorials", "How-to guides", "Reference", "Explanation"], sections
    pages = nav_pages(site()["nav"])
    assert pages["reference/api.md"] == "Reference" and pages["tutorials/quickstart.md"] == "Tutorials"


def test_the_build_is_strict_and_the_api_reference_comes_from_the_docstrings():
    config = site()
    assert config["strict"] is True and config["theme"]["name"] == "material"
    assert any("mkdocstrings" in (p if isinstance(p, str) else next(iter(p))) for p in config["plugins"])
    assert "::: emoframe.api.bench" in (DOCS / "reference" / "api.md").read_text()
    assert "--strict" in (ROOT / "scripts" / "docs.sh").read_text()
    assert "scripts/docs.sh" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_links_the_site_and_shows_the_python_api_beside_the_cli():
    readme = (ROOT / "README.md").read_text()
    for page in ("docs/tutorials/quickstart.md", "docs/how-to/python-api.md", "docs/reference/api.md"):
        assert f"]({page})" in readme, page
    assert "emoframe.bench(" in readme and "emoframe bench " in readme
    assert "scripts/docs.sh" in readme
