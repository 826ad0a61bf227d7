"""Console roles, ordered: each role may do everything the roles before it may.

`agent` handles handoffs (the queue, conversations, the audit log); `supervisor`
also runs the service (alerts, answers, the dashboard); `admin` may do
everything, and manage the accounts. A page declares the least role it needs
(`console.web.staff_only`); a role this release does not know allows nothing.
"""

from __future__ import annotations

from typing import Optional, Tuple

AGENT, SUPERVISOR, ADMIN = "agent", "supervisor", "admin"
ROLES: Tuple[str, ...] = (AGENT, SUPERVISOR, ADMIN)  # least to most trusted
DEFAULT = AGENT  # least privilege: new and migrated accounts
DESCRIPTIONS = {
    AGENT: "handoffs (the queue and conversations)",
    SUPERVISOR: "also alerts, answers and the dashboard",
    ADMIN: "everything, and the staff accounts",
}
TITLES = {AGENT: "agents", SUPERVISOR: "supervisors", ADMIN: "administrators"}


def rank(role: Optional[str]) -> int:
    """The role's place in ROLES; -1 for none or an unknown one."""
    return ROLES.index(role) if role in ROLES else -1


def allows(role: Optional[str], needed: str) -> bool:
    """Whether an account with `role` may do what needs `needed` (admin ⊇ supervisor ⊇ agent)."""
    if needed not in ROLES:
        raise ValueError(f"unknown role {needed!r}")
    return rank(role) >= rank(needed)


def who_may(needed: str) -> str:
    """Who may, in words: 'agents, supervisors and administrators', 'administrators'."""
    titles = [TITLES[role] for role in ROLES[rank(needed) :]]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def refusal(needed: str, role: Optional[str]) -> str:
    """Why a signed-in staff member is refused a page (the 403's text)."""
    held = f"the {role} role" if role in ROLES else "no role this console knows"
    return f"This page is for {who_may(needed)} only. Your account has {held}; an administrator can change it."
