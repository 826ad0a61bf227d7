"""Console roles are ordered (admin ⊇ supervisor ⊇ agent); pages, links and refusals follow the order."""

from __future__ import annotations

import pytest

from bot.handoff import pages, roles
from bot.handoff.console.web import staff_only


def test_each_role_may_do_what_the_roles_below_it_may():
    assert roles.ROLES == ("agent", "supervisor", "admin")
    allowed = {(held, needed) for held in roles.ROLES for needed in roles.ROLES if roles.allows(held, needed)}
    assert allowed == {
        ("agent", "agent"),
        ("supervisor", "agent"),
        ("supervisor", "supervisor"),
        ("admin", "agent"),
        ("admin", "supervisor"),
        ("admin", "admin"),
    }


def test_no_role_or_an_unknown_one_allows_nothing():
    for held in (None, "", "root", "Admin", "superuser"):
        assert not any(roles.allows(held, needed) for needed in roles.ROLES), held


def test_a_page_cannot_need_a_role_that_does_not_exist():
    with pytest.raises(ValueError):
        roles.allows("admin", "owner")
    with pytest.raises(ValueError):
        staff_only("owner")  # a typo fails when the blueprint is imported, not by letting everyone in


def test_a_refusal_says_who_may_and_what_the_account_has():
    assert roles.who_may(roles.AGENT) == "agents, supervisors and administrators"
    assert roles.who_may(roles.SUPERVISOR) == "supervisors and administrators"
    assert roles.who_may(roles.ADMIN) == "administrators"
    assert roles.refusal(roles.ADMIN, roles.AGENT) == (
        "This page is for administrators only. Your account has the agent role; an administrator can change it."
    )
    assert "no role this console knows" in roles.refusal(roles.SUPERVISOR, "root")


def test_the_console_links_are_those_of_the_role():
    def labels(role: str) -> list:
        return [link.label for link in pages.navigation(role)]

    assert labels(roles.AGENT) == ["Queue", "Search", "Audit log"]
    assert labels(roles.SUPERVISOR) == ["Queue", "Search", "Alerts", "Audit log", "Dashboard", "Answers"]
    assert labels(roles.ADMIN) == ["Queue", "Search", "Alerts", "Audit log", "Dashboard", "Answers", "Accounts"]
    assert labels("unknown") == []


def test_only_an_admin_s_pages_link_to_the_accounts(city: None):
    agent = pages.audit_page([], "ana", "token", roles.AGENT)
    admin = pages.audit_page([], "ada", "token", roles.ADMIN)
    assert 'href="/console/accounts"' not in agent and 'href="/console/audit" aria-current="page"' in agent
    assert '<a href="/console/accounts">Accounts</a>' in admin
    assert 'href="/console"' not in pages.login_page("token")  # nobody signed in: no sections
