"""The documentation: a short README, and the built site (`make docs`) with a full API
reference, no broken image and no dead link.

The site tests read ``docs/_build/html`` and skip, saying how to build it, when it is
absent; ``.ci/run`` builds the site and then runs them. The rendering test opens
pages in Debian's headless chromium (skipped without it), which decodes every
image and lists every link as the browser resolved it.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import chromium, headless_dom

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "docs" / "_build" / "html"
#: The pages checked, with the fewest images each must show: the front page and one
#: gallery example with its figure.
PAGES = {"index.html": 0, "auto_examples/plot_05_training.html": 1}


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.skip(f"{SITE / 'index.html'} not built; run `make docs`")
    return SITE


class _Page(HTMLParser):
    """Element ids, link targets and image sources of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "img" and values.get("src"):
            self.images.append(values["src"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _dead(site: Path, page: Path, targets: list[str]) -> list[str]:
    """The targets inside the site that name a missing file or a missing anchor."""
    dead, parsed = [], {}
    for target in targets:
        parts = urlsplit(target)
        if parts.scheme in ("http", "https", "mailto") or parts.netloc:
            continue  # outside the site
        if parts.scheme == "file":
            path = Path(unquote(parts.path))
        elif parts.path:
            path = page.parent / unquote(parts.path)
        else:
            path = page
        path = Path(posixpath.normpath(path.as_posix()))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(site) or not path.is_file():
            dead.append(target)
            continue
        if parts.fragment and path.suffix == ".html":
            if path not in parsed:
                parsed[path] = _parse(path).ids
            if unquote(parts.fragment) not in parsed[path]:
                dead.append(target)
    return dead


def test_api_reference_lists_every_public_name(site):
    inventory_file = pytest.importorskip("sphinx.util.inventory").InventoryFile

    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        from skyclass_api import public_api
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    with open(site / "objects.inv", "rb") as f:
        inventory = inventory_file.load(f, "", posixpath.join)
    data = getattr(inventory, "data", inventory)
    documented = {
        name for kind, entries in data.items() if kind.startswith("py:") for name in entries
    }
    api = public_api()
    wanted = {f"{module}.{name}" for module, entry in api.items() for name, _ in entry["own"]}
    wanted |= {target for entry in api.values() for _, target in entry["reexported"]}
    assert len(wanted) > 300
    assert sorted(wanted - documented) == [], "not in the site: rebuild it with `make docs`"


@pytest.mark.parametrize("name", PAGES)
def test_page_links_and_images_exist(site, name):
    page = site / name
    parsed = _parse(page)
    assert len(parsed.images) >= PAGES[name]
    assert _dead(site, page, parsed.images) == []
    assert _dead(site, page, parsed.links) == []


def test_every_gallery_example_ran_and_shows_its_figure(site):
    scripts = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))
    assert len(scripts) >= 8
    for script in scripts:
        page = site / "auto_examples" / f"{script.stem}.html"
        figures = [src for src in _parse(page).images if f"sphx_glr_{script.stem}_" in src]
        assert figures, f"{page.name} shows no figure drawn by {script.name}"
        assert _dead(site, page, figures) == []


_CHECK_SCRIPT = """<pre id="skyclass-check"></pre><script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
    .map(function (i) { return i.getAttribute("src"); });
  var links = Array.prototype.slice.call(document.querySelectorAll("a[href]"))
    .map(function (a) { return a.href; });
  document.getElementById("skyclass-check").textContent = JSON.stringify(
    {images: images.length, broken: broken, links: links});
});
</script></body>"""


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_in_headless_chromium(site, name, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("install Debian's chromium")
    copy = tmp_path / "html"
    shutil.copytree(site, copy)
    page = copy / name
    probe = page.with_name(f"_probe_{page.name}")  # beside the page: relative paths still hold
    probe.write_text(page.read_text().replace("</body>", _CHECK_SCRIPT, 1))
    dom = headless_dom(browser, probe.as_uri(), tmp_path / "profile", timeout=90)
    # the theme's script adds attributes to <pre> elements, so match the tag loosely
    found = re.search(r'<pre id="skyclass-check"[^>]*>(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    result = json.loads(html.unescape(found.group(1)))
    assert result["images"] >= PAGES[name]
    assert result["broken"] == []
    links = [link.replace(probe.as_uri(), page.as_uri(), 1) for link in result["links"]]
    assert links, f"{name} has no link"
    assert _dead(copy, page, links) == []


def test_readme_is_a_short_entry_point_whose_links_exist():
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    links = re.findall(r"\]\(([^)#\s]+)\)", text)
    assert any(link.startswith("docs/guide/") for link in links)
    missing = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert missing == []
