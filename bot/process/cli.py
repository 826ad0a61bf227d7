"""`citybot`: run the assistant and look after it from a terminal."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import List, NoReturn, Optional

from bot.process.procs import ManagedProcess
from bot.process.stack import StackConfig
from bot.process.stack_processes import migrate_database, stack_processes
from bot.process.supervisor import Supervisor
from bot.rasa_ext.api_tokens import RASA_API_TOKEN, TOKEN_FILES
from bot.settings import settings

# Why there is no "actions" process to start, and how to have one.
ACTIONS_IN_RASA = (
    "the Rasa server runs the actions itself; ACTIONS_IN_PROCESS=0 runs them in an action server of their own"
)


def say(message: str) -> None:
    """A progress line for the person at the terminal."""
    print(f"==> {message}", flush=True)


def chosen_processes(processes: List[ManagedProcess], wanted: Optional[str]) -> List[ManagedProcess]:
    """The processes named in CITYBOT_PROCESSES (e.g. "actions,rasa" on a further machine), or all.

    Further Rasa servers (rasa-2, rasa-3...) come with "rasa".
    """
    if not wanted:
        return processes
    names = {name.strip() for name in wanted.split(",") if name.strip()}
    known = {process.name.split("-")[0] for process in processes}
    unknown = names - known
    if "actions" in unknown:
        raise SystemExit(f"CITYBOT_PROCESSES: {ACTIONS_IN_RASA}")
    if unknown:
        raise SystemExit(f"CITYBOT_PROCESSES: unknown {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    return [process for process in processes if process.name.split("-")[0] in names]


def run_stack(_: argparse.Namespace) -> int:
    """Start every process, wait until each answers, then keep them running until Ctrl-C (bot/process/supervisor.py)."""
    config = StackConfig.from_env()
    config.var_dir.mkdir(parents=True, exist_ok=True)
    migrate_database(config)
    supervisor = Supervisor(chosen_processes(stack_processes(config), settings().citybot_processes), say=say)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: supervisor.request_stop())
    return supervisor.run(
        on_ready=lambda: say(
            f"The assistant is up: web chat at http://localhost:{config.rasa_port}/chat, REST channel at "
            f"http://localhost:{config.rasa_port}/webhooks/rest/webhook (with ?token= from RASA_API_TOKEN or "
            f"{config.var_dir / TOKEN_FILES[RASA_API_TOKEN]}), Open311 at {config.effective_open311_url}. "
            "Press Ctrl-C to stop."
        )
    )


def serve_process(args: argparse.Namespace) -> NoReturn:
    """Become one process of the stack, exactly as `citybot run` starts it (for systemd units)."""
    processes = {process.name: process for process in stack_processes(StackConfig.from_env())}
    if args.name == "actions" and args.name not in processes:
        raise SystemExit(f"citybot serve actions: {ACTIONS_IN_RASA}")
    if args.name not in processes:
        raise SystemExit(f"citybot serve: unknown process {args.name} (known: {', '.join(processes)})")
    process = processes[args.name]
    os.chdir(process.cwd)
    os.execvpe(process.argv[0], list(process.argv), {**os.environ, **process.env})


def serve_open311(args: argparse.Namespace) -> int:
    """Run only the reference Open311 server."""
    from bot.open311.server import main as open311_main

    open311_main(args.rest)
    return 0


def run_worker(_: argparse.Namespace) -> int:
    """Deliver the report outbox and send status updates (also started by `citybot run`)."""
    from bot.process.worker import main as worker_main

    return worker_main()


def set_request_status(args: argparse.Namespace) -> int:
    """Staff move a request along on the reference back office; residents following it are told."""
    import httpx

    from bot.open311.client import client_from_env

    client = client_from_env()
    response = httpx.post(
        f"{client.base_url.rstrip('/')}/requests/{args.request_id}/status.json",
        data={"api_key": client.api_key or "", "status": args.status, "status_notes": args.notes},
        timeout=10,
    )
    if response.status_code != 200:
        say(f"The back office refused: HTTP {response.status_code} {response.text[:300]}")
        return 1
    say(f"Request {args.request_id} is now {args.status}: {args.notes}")
    return 0


def telegram_command(args: argparse.Namespace) -> int:
    """Telegram setup, e.g. `citybot telegram set-webhook` (see README)."""
    from bot.channels.telegram import main as telegram_main

    return telegram_main(args.rest)


def alerts_command(args: argparse.Namespace) -> int:
    """Crisis alerts: `citybot alerts preview|send|status|resume|cancel|subscribe-test` (see README)."""
    from bot.alerts.cli import main as alerts_main

    return alerts_main(args.rest)


def retention_command(args: argparse.Namespace) -> int:
    """Privacy: `citybot retention run [--dry-run]|hold|release|holds` (see README)."""
    from bot.retention.cli import main as retention_main

    return retention_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citybot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start every process and restart any that dies").set_defaults(handler=run_stack)
    serve = commands.add_parser(
        "serve", help="run one process of the stack in the foreground, as `run` starts it (systemd units)"
    )
    serve.add_argument("name", help="open311, actions, rasa, rasa-2..., worker or console")
    serve.set_defaults(handler=serve_process)
    commands.add_parser("worker", help="deliver the report outbox and send status updates").set_defaults(
        handler=run_worker
    )
    status = commands.add_parser("request-status", help="change a request's status on the reference back office")
    status.add_argument("request_id")
    status.add_argument("status", choices=["open", "closed"])
    status.add_argument("notes", help='e.g. "in progress" or "closed - fixed"')
    status.set_defaults(handler=set_request_status)
    telegram = commands.add_parser("telegram", help="Telegram setup: set-webhook")
    telegram.add_argument("rest", nargs=argparse.REMAINDER, help="set-webhook [--public-url URL]")
    telegram.set_defaults(handler=telegram_command, passes_options_on=True)
    for name, handler, text, subcommands in (
        (
            "alerts",
            alerts_command,
            "crisis alerts: preview, send, status, resume, cancel, subscribe-test",
            "{preview,send,status,resume,cancel,subscribe-test} ...",
        ),
        (
            "retention",
            retention_command,
            "privacy: run the retention job now (or --dry-run), hold or release a conversation",
            "{run [--dry-run],hold ID --reason TEXT,release ID,holds}",
        ),
    ):
        tool = commands.add_parser(
            name,
            help=text,
            description=f"citybot {name} {subcommands}; `citybot {name} SUBCOMMAND -h` lists a subcommand's options.",
        )
        tool.add_argument("rest", nargs=argparse.REMAINDER, help="a subcommand and its options")
        tool.set_defaults(handler=handler, passes_options_on=True)
    open311 = commands.add_parser("open311", help="run the reference Open311 server alone")
    open311.add_argument("rest", nargs=argparse.REMAINDER, help="options for the server (--port, --db)")
    open311.set_defaults(handler=serve_open311, passes_options_on=True)
    from bot.handoff.cli import add_commands as add_handoff_commands  # `citybot console`, `citybot staff ...`

    add_handoff_commands(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "passes_options_on", False):
        # argparse's REMAINDER misses options that come first (`citybot open311 --port 8311`):
        # the command gets everything after its name, as typed.
        args.rest = argv[argv.index(args.command) + 1 :]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
