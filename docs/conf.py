"""Sphinx: the Markdown pages of docs/ (MyST) and the API reference from the docstrings (autodoc).

Build with `make docs` (warnings are errors); the site is in docs/_build/html.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django  # noqa: E402

django.setup()  # autodoc imports the real objects: signatures come from the code

project = "dbos_django"
author = "dbos_django developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3  # links such as queues.md#application-versions
myst_enable_extensions = ["colon_fence"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}
html_theme = "alabaster"
html_theme_options = {"description": "Durable workflows for Django", "fixed_sidebar": True}
html_static_path: list[str] = []
