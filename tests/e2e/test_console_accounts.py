"""Roles and staff accounts in the running console, over HTTP and in chromium.

The console runs alone on its own database (tests/support/console.py): accounts
need nothing else of the assistant, and every account and audit row is this
module's. Agents and supervisors are refused the accounts pages and their forms
(403); an admin creates accounts, changes roles, resets passwords, disables and
enables, each change audited; the last active admin stays one.
"""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from bot.db.schema import staff_users
from tests.support.browser import describe, screenshot, serious_violations
from tests.support.console import Console, console_alone
from tests.support.staff import PASSWORD, Staff, make_staff

pytestmark = [pytest.mark.e2e]

NEW_PASSWORD = "a-fresh-city-passphrase"
REFUSED = "This page is for administrators only."
_names = itertools.count(random.randint(100, 999))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    # every test signs in from 127.0.0.1; the per-client limit has tests of its own
    with console_alone(tmp_path_factory.mktemp("console-accounts"), {"CONSOLE_SIGNIN_ATTEMPTS": "1000"}) as running:
        yield running


def signed_in(console: Console, role: str, name: str = "") -> Staff:
    """A new account with `role`, made with `citybot staff add`, signed in."""
    member = console.staff(name or f"{role}{next(_names)}")
    make_staff(console, member.username, role=role)
    assert member.login().status_code == 303
    return member


def account_changes(console: Console, actor: str) -> List[Tuple[str, str]]:
    return [(action, detail) for action, detail in console.audit(actor) if action.startswith("staff_")]


def new_account(name: str, role: str, password: str = PASSWORD, again: str = "") -> dict:
    return {"username": name, "role": role, "password": password, "password_again": again or password}


def role_of(name: str, console: Console) -> Tuple[str, bool]:
    with console.db.engine.connect() as connection:
        row = connection.execute(
            sa.select(staff_users.c.role, staff_users.c.disabled).where(staff_users.c.username == name)
        ).one()
    return row.role, row.disabled


# --- refused below admin ----------------------------------------------------------------------


def test_agents_and_supervisors_are_refused_the_accounts_pages_and_forms(console):
    admin = signed_in(console, "admin")
    for role in ("agent", "supervisor"):
        member = signed_in(console, role)
        for path in ("/console/accounts", f"/console/accounts/{admin.username}"):
            page = member.get(path)
            assert page.status_code == 403 and REFUSED in page.text, path
            assert f"Your account has the {role} role" in page.text
            assert 'href="/console/accounts"' not in page.text  # no link to what they cannot open
            api = member.get(path, headers={"Accept": "application/json"})
            assert api.status_code == 403 and api.json()["error"].startswith(REFUSED), path
        forms = {
            "/console/accounts": new_account(f"sneaky{next(_names)}", "admin"),
            f"/console/accounts/{member.username}/role": {"role": "admin"},
            f"/console/accounts/{admin.username}/disable": {},
            f"/console/accounts/{admin.username}/password": {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
            f"/console/accounts/{admin.username}/enable": {},
        }
        for path, data in forms.items():  # with the right CSRF token: the role is what is missing
            answer = member.post(path, **data)
            assert answer.status_code == 403 and REFUSED in answer.text, path
            json = member.client.post(
                path, data=data, headers={"Accept": "application/json", "X-CSRF-Token": member.csrf}
            )
            assert json.status_code == 403 and "error" in json.json(), path
        # nothing happened, nothing was audited; their own pages still work
        assert role_of(member.username, console) == (role, False)
        assert account_changes(console, member.username) == []
        for path in ("/console", "/console/audit"):
            assert member.get(path).status_code == 200, path
    assert role_of(admin.username, console) == ("admin", False)
    assert admin.get("/console/accounts").status_code == 200  # the password is unchanged, the session lives
    assert not [a for a in console.audit("(cli)") if a[1] and a[1].startswith("sneaky")]
    assert "refused GET /console/accounts to" in console.log() and PASSWORD not in console.log()


def test_without_a_session_the_accounts_pages_send_you_to_sign_in(console):
    anonymous = Staff(console.url, "nobody")
    answer = anonymous.get("/console/accounts")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login?next=/console/accounts"
    posted = anonymous.client.post("/console/accounts", data=new_account("ghost", "admin"))
    assert posted.status_code == 303 and posted.headers["location"].startswith("/console/login")
    api = anonymous.get("/console/accounts", headers={"Accept": "application/json"})
    assert api.status_code == 401


# --- an admin manages accounts ------------------------------------------------------------------


def test_an_admin_manages_accounts_and_every_change_is_audited(console):
    admin = signed_in(console, "admin")
    listing = admin.get("/console/accounts")
    assert listing.status_code == 200 and '<a href="/console/accounts" aria-current="page">Accounts</a>' in listing.text
    assert f'data-account="{admin.username}"' in listing.text

    fay = console.staff(f"fay{next(_names)}")
    created = admin.post("/console/accounts", **new_account(fay.username.upper(), "supervisor"))
    assert created.status_code == 303
    assert created.headers["location"] == f"/console/accounts/{fay.username}?done=account_created"
    page = admin.get(created.headers["location"]).text
    assert "Account created." in page and f"<h1>Account {fay.username}</h1>" in page and "supervisor" in page
    assert fay.login().status_code == 303
    assert fay.get("/console/accounts").status_code == 403  # a supervisor

    # a new role applies at the account's next request, in the session it has
    promoted = admin.post(f"/console/accounts/{fay.username}/role", role="admin")
    assert promoted.headers["location"] == f"/console/accounts/{fay.username}?done=role_changed"
    assert fay.get("/console/accounts").status_code == 200
    admin.post(f"/console/accounts/{fay.username}/role", role="agent")
    assert fay.get("/console/accounts").status_code == 403 and fay.get("/console").status_code == 200
    same = admin.post(f"/console/accounts/{fay.username}/role", role="agent")
    assert same.headers["location"].endswith("?done=role_unchanged")  # nothing changed: nothing audited

    # a new password ends the account's sessions
    reset = admin.post(f"/console/accounts/{fay.username}/password", password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert reset.headers["location"].endswith("?done=password_reset")
    assert fay.get("/console").status_code == 303
    assert fay.login().status_code == 401 and fay.login(NEW_PASSWORD).status_code == 303

    # disabled: the session ends at once and signing in is refused; enabled: back
    disabled = admin.post(f"/console/accounts/{fay.username}/disable")
    assert disabled.headers["location"].endswith("?done=account_disabled")
    assert fay.get("/console").status_code == 303
    assert fay.login(NEW_PASSWORD).status_code == 401
    listing = admin.get("/console/accounts").text
    (row,) = [line for line in listing.splitlines() if f'data-account="{fay.username}"' in line]
    assert "<td>agent</td><td>Disabled</td>" in row and "Never" not in row  # fay signed in before
    admin.post(f"/console/accounts/{fay.username}/enable")
    assert fay.login(NEW_PASSWORD).status_code == 303 and fay.get("/console").status_code == 200

    assert account_changes(console, admin.username) == [
        ("staff_add", f"{fay.username} as supervisor"),
        ("staff_role", f"{fay.username}: supervisor -> admin"),
        ("staff_role", f"{fay.username}: admin -> agent"),
        ("staff_passwd", fay.username),
        ("staff_disable", fay.username),
        ("staff_enable", fay.username),
    ]
    audit_page = admin.get("/console/audit").text
    assert f"{fay.username}: supervisor -&gt; admin" in audit_page
    everything = str(console.audit(admin.username)) + console.log()
    assert PASSWORD not in everything and NEW_PASSWORD not in everything


def test_bad_account_input_gets_a_clear_4xx_and_changes_nothing(console):
    admin = signed_in(console, "admin")
    name = f"gil{next(_names)}"
    refusals = [
        (new_account(name, "agent", "short"), 400, "A password needs at least 10 characters."),
        (new_account(name, "agent", PASSWORD, PASSWORD + "x"), 400, "The two passwords differ."),
        (new_account("Not A Name", "agent"), 400, "A username is 2-64 characters"),
        (new_account(name, "owner"), 400, "A role is one of agent, supervisor, admin."),
        (new_account(admin.username, "agent"), 409, "already exists"),
    ]
    for data, status, text in refusals:
        answer = admin.post("/console/accounts", **data)
        assert answer.status_code == status and text in answer.text, data
        assert f'value="{data["username"]}"' in answer.text  # the form keeps what was typed...
        assert data["password"] not in answer.text  # ...but never a password
    assert admin.client.post("/console/accounts", data=new_account(name, "agent")).status_code == 403  # no CSRF
    assert admin.get(f"/console/accounts/{name}").status_code == 404  # none of it made the account

    assert admin.get("/console/accounts/nobody-here").status_code == 404
    missing = admin.post("/console/accounts/nobody-here/role", role="admin")
    assert missing.status_code == 404 and "There is no such staff account." in missing.text
    assert admin.post(f"/console/accounts/{admin.username}/role", role="root").status_code == 400
    short = admin.post(f"/console/accounts/{admin.username}/password", password="short", password_again="short")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    assert account_changes(console, admin.username) == []


def test_the_last_active_admin_can_neither_disable_nor_demote_themselves(tmp_path: Path):
    with console_alone(tmp_path) as fresh:
        root = signed_in(fresh, "admin", "root")
        for path, data in (
            (f"/console/accounts/{root.username}/role", {"role": "agent"}),
            ("/console/accounts/root/disable", {}),
        ):
            answer = root.post(path, **data)
            assert (
                answer.status_code == 409
                and "The last active admin (root) can be neither disabled nor demoted" in answer.text
            ), path
        assert role_of("root", fresh) == ("admin", False) and root.get("/console/accounts").status_code == 200

        assert root.post("/console/accounts", **new_account("ops", "admin")).status_code == 303
        assert root.post("/console/accounts/root/role", role="supervisor").status_code == 303  # ops is an admin
        assert root.get("/console/accounts").status_code == 403  # at once
        ops = fresh.staff("ops")
        assert ops.login().status_code == 303
        assert ops.post("/console/accounts/ops/disable").status_code == 409
        assert account_changes(fresh, "root") == [
            ("staff_add", "ops as admin"),
            ("staff_role", "root: admin -> supervisor"),
        ]
        assert account_changes(fresh, "ops") == []


# --- in the browser -----------------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_creates_a_supervisor_who_can_then_sign_in(console, page: Page):
    admin = f"ada{next(_names)}"
    supervisor = f"sue{next(_names)}"
    make_staff(console, admin, role="admin")
    page.goto(f"{console.url}/console/accounts")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/accounts$"))
    sign_in(page, admin)
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    violations = serious_violations(page)
    assert not violations, describe(violations)

    page.get_by_label("Username").fill(supervisor)
    page.get_by_label(re.compile("^Supervisor")).check()
    page.get_by_label("Initial password", exact=True).fill(PASSWORD)
    page.get_by_label("Initial password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Account {supervisor}")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Account created.")
    expect(page.get_by_label(re.compile("^Supervisor"))).to_be_checked()
    violations = serious_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "console-account.png")

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Accounts").click()
    row = page.locator(f"tr[data-account='{supervisor}']")
    expect(row).to_contain_text("supervisor")
    expect(row).to_contain_text("Never")
    screenshot(page, "console-accounts.png")
    assert role_of(supervisor, console) == ("supervisor", False)
    assert account_changes(console, admin) == [("staff_add", f"{supervisor} as supervisor")]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, supervisor)
    expect(page.get_by_role("heading", name="Conversations waiting for staff")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {supervisor}")).to_be_visible()
    expect(page.get_by_role("navigation", name="Console").get_by_role("link", name="Accounts")).to_have_count(0)
    page.goto(f"{console.url}/console/accounts")
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
