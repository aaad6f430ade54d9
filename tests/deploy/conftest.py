"""The browser and the demo fund with an admin, shared with tests/browser."""

from tests.browser.conftest import browser, demo_with_admin

__all__ = ["browser", "demo_with_admin"]
