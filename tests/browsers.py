"""Debian's Chromium for the browser tests, driven by Playwright (never `playwright install`).

Missing Chromium or Playwright makes a browser test skip with the reason on a user's
machine, and fail under CI (``CI=true``), where scripts/test-services must provide them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def sync_playwright_or_skip():
    """Playwright's ``sync_playwright``, or the test skipped (failed under CI) with why not."""
    problem = None
    if not CHROMIUM.exists():
        problem = (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y "
                   "chromium, or EURODEX_INSTALL_SERVICES=1 scripts/test-services)")
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            problem = "the playwright package is missing: pip install -e '.[test]'"
    if problem is None:
        return sync_playwright
    if os.environ.get("CI") == "true":
        pytest.fail(problem)
    pytest.skip(problem)
