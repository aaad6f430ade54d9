"""API route modules; importing this package registers every route in :data:`apps.api.registry.API`."""

from apps.api.routes import (  # noqa: F401
    account,
    activity,
    admin,
    ask,
    automations,
    backups,
    digest,
    email,
    feedback,
    fundraising,
    pipeline,
    search,
    views,
)
