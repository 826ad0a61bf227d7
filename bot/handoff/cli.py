"""`citybot console` and `citybot staff ...`: the staff console and its accounts.

citybot console [--host 127.0.0.1] [--port 8080]
citybot staff add dana             # an agent; asks for the password twice (or reads one line from stdin)
citybot staff add root --role admin   # the first admin (who then manages accounts in the console)
citybot staff role dana supervisor # agent | supervisor | admin, in force at dana's next request
citybot staff passwd dana          # a new password; dana's sessions end
citybot staff disable dana         # no more sign-ins; dana's sessions end
citybot staff enable dana
citybot staff list                 # with each account's role

The last active admin can be neither disabled nor demoted: make another admin first.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any, Awaitable, Optional, TypeVar

T = TypeVar("T")


def read_password(prompt_twice: bool = True) -> str:
    """From the terminal (asked twice, not echoed), or the first line of stdin when piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if prompt_twice and getpass.getpass("Password again: ") != first:
        raise SystemExit("The passwords differ; nothing was changed.")
    return first


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def _audited(work: Awaitable[T], action: str, detail: Optional[str] = None) -> T:
    """Run a change and its audit line in one event loop (passwords are hashed in the store's pool, off it)."""
    from bot.handoff import store

    async def both() -> T:
        result = await work
        await store.audit("(cli)", action, detail=detail if detail is not None else str(result))
        return result

    return _run(both())


def staff_add(args: argparse.Namespace) -> int:
    from bot.handoff import store

    try:
        name = store.check_username(args.username)
        _audited(store.add_staff(name, read_password(), args.role), "staff_add", f"{name} as {args.role}")
    except store.AccountError as error:
        print(f"citybot staff add: {error}", file=sys.stderr)
        return 1
    print(f"==> Staff account {name} ({args.role}) created. Sign in at /console (CONSOLE_PORT, default 8080).")
    return 0


def staff_role(args: argparse.Namespace) -> int:
    from bot.handoff import store

    async def change() -> str:
        name = store.check_username(args.username)
        before = await store.set_role(name, args.role)
        return f"{name}: {before} -> {args.role}"

    try:
        _audited(change(), "staff_role")
    except store.AccountError as error:
        print(f"citybot staff role: {error}", file=sys.stderr)
        return 1
    print(f"==> {args.username} is now {args.role}.")
    return 0


def staff_passwd(args: argparse.Namespace) -> int:
    from bot.handoff import store

    try:
        _audited(store.set_password(args.username, read_password()), "staff_passwd", args.username)
    except store.AccountError as error:
        print(f"citybot staff passwd: {error}", file=sys.stderr)
        return 1
    print(f"==> New password set for {args.username}; their sessions were ended.")
    return 0


def staff_disable(args: argparse.Namespace, disabled: bool = True) -> int:
    from bot.handoff import store

    try:
        _audited(
            store.set_disabled(args.username, disabled), "staff_disable" if disabled else "staff_enable", args.username
        )
    except store.AccountError as error:
        print(f"citybot staff: {error}", file=sys.stderr)
        return 1
    print(f"==> {args.username} is {'disabled' if disabled else 'enabled'}.")
    return 0


def staff_list(_: argparse.Namespace) -> int:
    from bot.handoff import store

    for account in _run(store.list_staff()):
        state = "disabled" if account.disabled else "active"
        seen = f"{account.last_sign_in_at:%Y-%m-%d %H:%M} UTC" if account.last_sign_in_at else "never"
        created = f"{account.created_at:%Y-%m-%d}"
        print(f"{account.username}\t{state}\t{account.role}\tcreated {created}\tlast sign-in {seen}")
    return 0


def run_console(args: argparse.Namespace) -> int:
    from bot.handoff.console.app import main

    argv = []
    if args.host:
        argv += ["--host", args.host]
    if args.port:
        argv += ["--port", str(args.port)]
    return main(argv)


def add_commands(commands: Any) -> None:
    """Add `console` and `staff` to the `citybot` command line."""
    from bot.handoff import roles

    console = commands.add_parser("console", help="run the staff console (live handoff to city staff)")
    console.add_argument("--host", default=None, help="default: CONSOLE_HOST or 127.0.0.1")
    console.add_argument("--port", type=int, default=None, help="default: CONSOLE_PORT or 8080")
    console.set_defaults(handler=run_console)

    staff = commands.add_parser("staff", help="staff console accounts")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    for name, handler, text in (
        ("add", staff_add, "create an account (password asked, or read from stdin)"),
        ("passwd", staff_passwd, "set a new password (password asked, or read from stdin)"),
        ("disable", staff_disable, "stop an account from signing in"),
        ("enable", lambda a: staff_disable(a, disabled=False), "let a disabled account sign in again"),
    ):
        command = actions.add_parser(name, help=text)
        command.add_argument("username")
        command.set_defaults(handler=handler)
        if name == "add":
            command.add_argument(
                "--role", choices=roles.ROLES, default=roles.DEFAULT, help=f"default: {roles.DEFAULT} (the least)"
            )
    role = actions.add_parser("role", help="give an account another role (agent, supervisor or admin)")
    role.add_argument("username")
    role.add_argument("role", choices=roles.ROLES)
    role.set_defaults(handler=staff_role)
    actions.add_parser("list", help="list the accounts and their roles").set_defaults(handler=staff_list)
