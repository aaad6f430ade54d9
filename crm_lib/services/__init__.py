"""THE service layer: the one API the web app, REST API, CLI, notebooks and jobs call.

Every function takes a :class:`~crm_lib.context.Context` first and returns plain data (dicts,
lists, small dataclasses). Writes go through :func:`crm_lib.storage.writes.write`: one transaction,
optimistic version check, audit rows, ``fundraising_state`` bump, change events after commit.
"""

from crm_lib.services.bulk import BulkResult, bulk_create_investors
from crm_lib.services.commitments import get_commitment, remove_commitment, set_commitment
from crm_lib.services.fields import add_field, archive_field, list_fields
from crm_lib.services.funds import archive_fund, create_fund, get_fund, list_funds, update_fund
from crm_lib.services.investors import (
    InvestorPage,
    archive_investor,
    count_by_list,
    create_investor,
    get_investor,
    investor_history,
    list_investors,
    restore_investor,
    update_field,
    update_investor,
)
from crm_lib.services.people import (
    add_person,
    find_people_by_email,
    get_person,
    list_contacts,
    remove_person,
    update_person,
)
from crm_lib.services.state import database_status, grid_state
from crm_lib.services.users import create_user, get_user, list_users

__all__ = [
    "BulkResult",
    "InvestorPage",
    "add_field",
    "add_person",
    "archive_field",
    "archive_fund",
    "archive_investor",
    "bulk_create_investors",
    "count_by_list",
    "create_fund",
    "create_investor",
    "create_user",
    "database_status",
    "find_people_by_email",
    "get_commitment",
    "get_fund",
    "get_investor",
    "get_person",
    "get_user",
    "grid_state",
    "investor_history",
    "list_contacts",
    "list_fields",
    "list_funds",
    "list_investors",
    "list_users",
    "remove_commitment",
    "remove_person",
    "restore_investor",
    "set_commitment",
    "update_field",
    "update_fund",
    "update_investor",
    "update_person",
]
