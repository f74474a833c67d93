"""Who may do what: one explicit table of role × action, and the tenant rule.

Use cases apply it (``application/access.py``), not the web edge, so every caller (a controller, a
job, the CLI) gets the same answer. ``docs/permissions.md`` is generated from ``PERMISSIONS`` and
checked by a test.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import Forbidden, NotFound
from kalamna.domain.identity import Role


class Action(StrEnum):
    READ_ORGANIZATION = "read organization"
    UPDATE_ORGANIZATION = "update organization"
    READ_BOT_CONFIG = "read bot config"
    UPDATE_BOT_CONFIG = "update bot config"
    MANAGE_API_CREDENTIALS = "manage API credentials"
    MANAGE_INVITATIONS = "manage invitations"
    READ_EMPLOYEES = "read employees"
    MANAGE_EMPLOYEES = "manage employees"
    READ_KNOWLEDGE = "read knowledge"
    WRITE_KNOWLEDGE = "create and update knowledge"
    DELETE_KNOWLEDGE = "delete knowledge"
    READ_ANALYTICS = "read analytics"
    MANAGE_WEBHOOKS = "manage webhooks"
    HANDLE_CONVERSATIONS = "handle conversations (read, take, reply, release, close, export)"
    ASSIGN_CONVERSATIONS_TO_OTHERS = "assign a conversation to another employee"
    REPLY_IN_OTHERS_CONVERSATIONS = "reply in a conversation assigned to another employee"
    ADMINISTER_PLATFORM = "administer the platform"


_STAFF = frozenset(
    {
        Action.READ_ORGANIZATION,
        Action.READ_BOT_CONFIG,
        Action.READ_EMPLOYEES,
        Action.READ_KNOWLEDGE,
        Action.WRITE_KNOWLEDGE,
        Action.READ_ANALYTICS,
        Action.HANDLE_CONVERSATIONS,
    }
)
_OWNER = frozenset(set(Action) - {Action.ADMINISTER_PLATFORM})

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.SUPERUSER: frozenset(Action),
    Role.OWNER: _OWNER,
    Role.STAFF: _STAFF,
}


def is_allowed(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def authorize(
    role: Role, own_organization: UUID | None, target_organization: UUID | None, action: Action
) -> None:
    """Raise unless ``role`` may do ``action`` on ``target_organization``.

    Another organization's resource is ``NotFound`` (its existence is not revealed); a known resource
    the role may not touch is ``Forbidden``.
    """
    if (
        role is not Role.SUPERUSER
        and target_organization is not None
        and own_organization != target_organization
    ):
        raise NotFound()
    if not is_allowed(role, action):
        raise Forbidden()


def render_markdown_table() -> str:
    """The permission matrix as Markdown; ``docs/permissions.md`` embeds it (a test keeps them equal)."""
    roles = [Role.OWNER, Role.STAFF, Role.SUPERUSER]
    lines = ["| action | " + " | ".join(r.value for r in roles) + " |", "|---|" + "---|" * len(roles)]
    for action in Action:
        cells = " | ".join("yes" if is_allowed(role, action) else "—" for role in roles)
        lines.append(f"| {action.value} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown_table())
