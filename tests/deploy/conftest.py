"""The demo fund with an admin, shared with tests/browser (the browser is tests/conftest.py's)."""

from tests.browser.conftest import demo_with_admin

__all__ = ["demo_with_admin"]
