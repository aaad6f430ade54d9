"""Venture CRM library: storage, the fundraising model and the service layer every front end calls.

Typical use from a notebook::

    import crm_lib
    ctx = crm_lib.open_crm()            # CRM_DATA_DIR or ./data
    crm_lib.services.list_investors(ctx, list_membership="follow_up").rows
"""

from crm_lib import services
from crm_lib.context import Context
from crm_lib.database import init_database, open_crm
from crm_lib.errors import (
    ConflictError,
    CRMError,
    DatabaseError,
    NotFound,
    PermissionDenied,
    ValidationError,
)

__all__ = [
    "CRMError",
    "ConflictError",
    "Context",
    "DatabaseError",
    "NotFound",
    "PermissionDenied",
    "ValidationError",
    "init_database",
    "open_crm",
    "services",
]
__version__ = "0.1.0"
