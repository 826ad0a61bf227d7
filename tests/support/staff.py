"""City staff using the running staff console over HTTP: their accounts and their sessions."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any, Dict, List

import httpx

from bot.process.procs import PROJECT_ROOT, venv_bin

PASSWORD = "river-city-staff-2024"


def make_staff(stack, username: str, password: str = PASSWORD, role: str = "agent") -> None:
    """`citybot staff add [--role ROLE]`, the password on stdin, against the running assistant's database."""
    done = subprocess.run(
        [venv_bin("citybot"), "staff", "add", username, "--role", role],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **stack.shared_env()},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def signed_in_staff(stack, console_url: str, username: str) -> "Staff":
    """A new staff account, signed in to the running console over HTTP."""
    staff = Staff(console_url, username)
    make_staff(stack, username)
    assert staff.login().status_code == 303
    return staff


class Staff:
    """A staff member's browser-less session with the console."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        self.client = httpx.Client(base_url=base, timeout=30)
        self.csrf = ""

    def login(self, password: str = PASSWORD) -> httpx.Response:
        form = self.client.get("/console/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
        answer = self.client.post(
            "/console/login", data={"login_token": token, "username": self.username, "password": password}
        )
        if answer.status_code == 303:
            self.csrf = csrf_of(self.client.get("/console").text)
        return answer

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **data: str) -> httpx.Response:
        data.setdefault("csrf_token", self.csrf)
        return self.client.post(path, data=data)

    def conversation(self, handoff_id: int) -> Dict[str, Any]:
        answer = self.client.get(f"/console/api/handoffs/{handoff_id}", headers={"Accept": "application/json"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def texts(self, handoff_id: int, who: str) -> List[str]:
        return [t["text"] for t in self.conversation(handoff_id)["turns"] if t["who"] == who]


def sign_in(page: Any, console_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in to the console in a browser tab (Playwright), up to the queue."""
    from playwright.sync_api import expect

    page.goto(f"{console_url}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="Conversations waiting for staff")).to_be_visible()


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)
