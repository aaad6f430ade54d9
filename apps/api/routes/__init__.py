"""API route modules; importing this package registers every route in :data:`apps.api.registry.API`."""

from apps.api.routes import account, admin, feedback, fundraising, views  # noqa: F401
