"""`citybot`: run the assistant and look after it from a terminal."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import List, Optional

from bot.procs import ManagedProcess, stop_all
from bot.stack import StackConfig, stack_processes

READY_TIMEOUT_SECONDS = 300.0


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
    if unknown:
        raise SystemExit(f"CITYBOT_PROCESSES: unknown {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    return [process for process in processes if process.name.split("-")[0] in names]


def run_stack(_: argparse.Namespace) -> int:
    """Start every process, wait until each answers, then stay up until Ctrl-C."""
    config = StackConfig.from_env()
    config.var_dir.mkdir(parents=True, exist_ok=True)
    processes = chosen_processes(stack_processes(config), os.environ.get("CITYBOT_PROCESSES"))
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for process in processes:
            say(f"Starting {process.name} (log: {process.log_path})")
            process.start()
            process.wait_ready(READY_TIMEOUT_SECONDS)
            say(f"{process.name} is ready")
        say(
            f"The assistant is up: REST channel at http://localhost:{config.rasa_port}/webhooks/rest/webhook, "
            f"Open311 at {config.effective_open311_url}. Press Ctrl-C to stop."
        )
        while not stop.is_set():
            for process in processes:
                if not process.is_running():
                    say(f"{process.name} stopped unexpectedly; stopping the others.\n{process.log_tail()}")
                    return 1
            stop.wait(1.0)
        return 0
    except (RuntimeError, TimeoutError) as error:
        say(str(error))
        return 1
    finally:
        say("Stopping")
        stop_all(processes)


def serve_open311(args: argparse.Namespace) -> int:
    """Run only the reference Open311 server."""
    from bot.open311.server import main as open311_main

    return open311_main(args.rest) or 0


def run_worker(_: argparse.Namespace) -> int:
    """Deliver the report outbox and send status updates (also started by `citybot run`)."""
    from bot.worker import main as worker_main

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citybot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the Open311 server, action server and Rasa server").set_defaults(
        handler=run_stack
    )
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
    telegram.set_defaults(handler=telegram_command)
    alerts = commands.add_parser(
        "alerts", help="crisis alerts: preview, send, status, resume, cancel, subscribe-test",
        description="citybot alerts {preview,send,status,resume,cancel,subscribe-test} ...; "
        "`citybot alerts SUBCOMMAND -h` lists a subcommand's options.",
    )
    alerts.add_argument("rest", nargs=argparse.REMAINDER, help="a subcommand and its options")
    alerts.set_defaults(handler=alerts_command)
    open311 = commands.add_parser("open311", help="run the reference Open311 server alone")
    open311.add_argument("rest", nargs=argparse.REMAINDER, help="options for the server (--port, --db)")
    open311.set_defaults(handler=serve_open311)
    from bot.handoff.cli import add_commands as add_handoff_commands  # `citybot console`, `citybot staff ...`

    add_handoff_commands(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
