"""THE service layer: the one API the web app, REST API, CLI, notebooks and jobs call.

Every function takes a :class:`~crm_lib.context.Context` first and returns plain data (dicts,
lists, small dataclasses). Writes go through :func:`crm_lib.storage.writes.write`: one transaction,
optimistic version check, audit rows, ``fundraising_state`` bump, change events after commit.
"""

from crm_lib.services.accounts import (
    Link,
    accept_link,
    change_password,
    create_admin_link,
    create_setup_link,
    has_admin_login,
    inspect_link,
    invite_user,
    list_accounts,
    list_invites,
    reset_password_link,
    revoke_invite,
    set_user_active,
    set_user_role,
)
from crm_lib.services.api_tokens import (
    authenticate_api_token,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from crm_lib.services.bulk import BulkResult, bulk_create_investors
from crm_lib.services.commitments import (
    get_commitment,
    list_commitments,
    remove_commitment,
    restore_commitment,
    set_commitment,
)
from crm_lib.services.exports import investors_csv
from crm_lib.services.feature_requests import (
    create_feature_request,
    get_feature_request,
    list_feature_requests,
    update_feature_request,
)
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
    list_people,
    remove_person,
    restore_person,
    update_person,
)
from crm_lib.services.security import security_status
from crm_lib.services.sessions import (
    Login,
    SessionUser,
    authenticate_session,
    end_user_sessions,
    list_sessions,
    login,
    logout,
)
from crm_lib.services.snapshot import apply_snapshot, grid_snapshot
from crm_lib.services.state import database_status, grid_state
from crm_lib.services.summary import relational_summary
from crm_lib.services.users import create_user, get_user, list_users

__all__ = [
    "BulkResult",
    "InvestorPage",
    "Link",
    "Login",
    "SessionUser",
    "accept_link",
    "add_field",
    "add_person",
    "apply_snapshot",
    "archive_field",
    "archive_fund",
    "archive_investor",
    "authenticate_api_token",
    "authenticate_session",
    "bulk_create_investors",
    "change_password",
    "count_by_list",
    "create_admin_link",
    "create_api_token",
    "create_feature_request",
    "create_fund",
    "create_investor",
    "create_setup_link",
    "create_user",
    "database_status",
    "end_user_sessions",
    "find_people_by_email",
    "get_commitment",
    "get_feature_request",
    "get_fund",
    "get_investor",
    "get_person",
    "get_user",
    "grid_snapshot",
    "grid_state",
    "has_admin_login",
    "inspect_link",
    "investor_history",
    "investors_csv",
    "invite_user",
    "list_accounts",
    "list_api_tokens",
    "list_commitments",
    "list_contacts",
    "list_feature_requests",
    "list_fields",
    "list_funds",
    "list_investors",
    "list_invites",
    "list_people",
    "list_sessions",
    "list_users",
    "login",
    "logout",
    "relational_summary",
    "remove_commitment",
    "remove_person",
    "reset_password_link",
    "restore_commitment",
    "restore_investor",
    "restore_person",
    "revoke_api_token",
    "revoke_invite",
    "security_status",
    "set_commitment",
    "set_user_active",
    "set_user_role",
    "update_feature_request",
    "update_field",
    "update_fund",
    "update_investor",
    "update_person",
]
