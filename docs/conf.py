"""Sphinx configuration of the skyclass documentation (``make docs``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from skyclass_api import write_pages  # noqa: E402

import skyclass  # noqa: E402

project = "skyclass"
author = "the skyclass developers"
copyright = "the skyclass developers"
version = release = skyclass.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # Records the generated pages are built from; not pages themselves.
    "results_runs",
    "results_units",
    "leaderboard_runs",
    "examples",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]
templates_path = ["_templates"]

# -- API reference ------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- Local intersphinx inventories, never downloaded ---------------------------
# Put numpy.inv / astropy.inv / torch.inv in SKYCLASS_INTERSPHINX_DIR (default
# docs/_inventories) to link to those projects; without them the build stays offline.
_INVENTORIES = {
    "numpy": "https://numpy.org/doc/stable/",
    "astropy": "https://docs.astropy.org/en/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
}
_inv_dir = Path(os.environ.get("SKYCLASS_INTERSPHINX_DIR", HERE / "_inventories"))
intersphinx_mapping = {
    name: (url, str(_inv_dir / f"{name}.inv"))
    for name, url in _INVENTORIES.items()
    if (_inv_dir / f"{name}.inv").is_file()
}
if intersphinx_mapping:
    extensions.append("sphinx.ext.intersphinx")

# -- Gallery ----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "show_memory": False,
    "default_thumb_file": None,
}

# -- MyST (the generated results and leaderboard pages) ----------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 2
suppress_warnings = ["myst.header"]

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skyclass {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
# Wide generated tables get the whole width: no section navigation on these pages.
html_sidebars = {"results": [], "leaderboard": [], "citing": []}


def _cli_help_as_text(app, what, name, obj, options, lines) -> None:
    """The ``skyclass`` commands' docstrings are their ``--help`` text, not reStructuredText:
    keep the first line as the summary and show the rest verbatim."""
    if what != "function" or not name.startswith("skyclass.cli.") or not lines:
        return
    summary = lines[0]
    for char in "\\*`|_":
        summary = summary.replace(char, "\\" + char)
    rest = [f"    {line}" for line in lines[1:]]
    lines[:] = [summary, ""] + (["::", "", *rest, ""] if any(s.strip() for s in rest) else [])


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """scikit-learn makes ``set_<method>_request`` on every estimator class (metadata
    routing); their docstrings point into scikit-learn's own glossary. Not ours to list."""
    if what == "class" and name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _write_api(app) -> None:
    write_pages(HERE / "api")


def setup(app) -> None:
    app.connect("builder-inited", _write_api)
    app.connect("autodoc-skip-member", _skip_metadata_routing)
    app.connect("autodoc-process-docstring", _cli_help_as_text, priority=400)  # before numpydoc
