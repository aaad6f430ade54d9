"""Who may do what: one table from action to the roles allowed, checked by the services.

Roles are ``admin`` and ``member`` (people), plus ``system`` for the operator's shell, notebooks
and jobs, which already have the database file and so are trusted with everything. Front ends
never decide permissions themselves: they call services, and services call :func:`require`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_lib.errors import PermissionDenied

if TYPE_CHECKING:
    from crm_lib.context import Context

ROLES = ("admin", "member")
SYSTEM = "system"

#: action -> (roles allowed, what the refusal says the user tried to do)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "use_grid": (frozenset({"admin", "member"}), "use the grid"),
    "import_data": (frozenset({"admin", "member"}), "import files"),
    "manage_own_account": (frozenset({"admin", "member"}), "change your own account"),
    "file_feature_requests": (frozenset({"admin", "member"}), "file feature requests"),
    "manage_feature_requests": (frozenset({"admin"}), "change a feature request's status"),
    "manage_users": (frozenset({"admin"}), "manage users and invites"),
    "manage_funds": (frozenset({"admin"}), "create or change funds"),
    "manage_shared_views": (frozenset({"admin"}), "un-share views others made"),
    "manage_backups": (frozenset({"admin"}), "manage backups"),
    "restore": (frozenset({"admin"}), "restore a backup"),
    "manage_policies": (frozenset({"admin"}), "change policies"),
    "manage_automations": (frozenset({"admin"}), "manage automations"),
    "view_security": (frozenset({"admin"}), "see the security status"),
    "read_email": (frozenset({"admin", "member"}), "read the team's captured email"),
    "decide_email_proposals": (
        frozenset({"admin", "member"}),
        "approve or reject email proposals",
    ),
    "manage_email": (frozenset({"admin"}), "connect mailboxes, import mail and set email policy"),
    "manage_digest": (frozenset({"admin"}), "preview, send and schedule the daily digest"),
    "ask": (frozenset({"admin", "member"}), "ask questions of the data"),
    "manage_pipeline": (frozenset({"admin"}), "configure the pipeline's stages"),
}


def allowed(role: str, action: str) -> bool:
    """True when ``role`` may do ``action`` (unknown actions are refused: fail closed)."""
    if action not in ACTIONS:
        return False
    return role == SYSTEM or role in ACTIONS[action][0]


def denial(action: str) -> PermissionDenied:
    """The refusal for ``action``, worded the same wherever it is checked."""
    description = ACTIONS[action][1] if action in ACTIONS else action
    return PermissionDenied(action, f"Only admins can {description}")


def require(ctx: Context, action: str) -> None:
    """Raise :class:`PermissionDenied` unless the context's role may do ``action``."""
    if not allowed(ctx.role, action):
        raise denial(action)
