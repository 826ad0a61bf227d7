"""`citybot retention ...`: the retention job on demand, and staff holds from a terminal.

    citybot retention run [--dry-run]          # forget what is older than the limit (dry: only count)
    citybot retention hold CONVERSATION_ID --reason "legal hold, case 2026-114" [--by dana]
    citybot retention release CONVERSATION_ID [--by dana]
    citybot retention holds                    # the conversations on hold

The worker runs the job once a day on its own; holds are also placed and
released on a conversation's page in the staff console. Each hold and release
is in the audit log (actor "(cli)", with --by or $USER as the one who holds).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Optional, Sequence, TextIO

from bot.settings import settings

CLI_ACTOR = "(cli)"


def say(message: str, stream: Optional[TextIO] = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citybot retention", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    run = commands.add_parser("run", help="forget what is older than the limit now")
    run.add_argument("--dry-run", action="store_true", help="only count what would go; change nothing")
    hold = commands.add_parser("hold", help="keep a conversation past the limit")
    hold.add_argument("conversation_id")
    hold.add_argument("--reason", required=True, help="why it is kept (a legal hold and its case, ...)")
    hold.add_argument("--by", default=None, help="who holds it (default: $USER)")
    release = commands.add_parser("release", help="end a conversation's hold")
    release.add_argument("conversation_id")
    release.add_argument("--by", default=None, help="who releases it (default: $USER)")
    commands.add_parser("holds", help="list the conversations on hold")
    return parser


async def _run(args: argparse.Namespace) -> int:
    from bot.retention import holds
    from bot.retention.job import run_retention

    who = args.by if getattr(args, "by", None) else settings().user or CLI_ACTOR
    if args.action == "run":
        counts = await run_retention(dry_run=args.dry_run)
        say(f"==> {'Dry run, nothing changed' if args.dry_run else 'Done'}:")
        for name, value in counts.as_dict().items():
            say(f"{name.replace('_', ' ')}\t{value}")
        return 0
    if args.action == "hold":
        if not await holds.known_conversation(args.conversation_id):
            say(f"citybot retention: no conversation {args.conversation_id} is stored", sys.stderr)
            return 1
        await holds.place_hold(args.conversation_id, who, args.reason, actor=CLI_ACTOR)
        say(f"==> {args.conversation_id} is on hold: the retention job keeps it until it is released.")
        return 0
    if args.action == "release":
        await holds.release_hold(args.conversation_id, who, actor=CLI_ACTOR)
        say(f"==> {args.conversation_id} is released: it is forgotten on the usual schedule.")
        return 0
    for hold in await holds.all_holds():
        say(f"{hold.conversation_id}\t{hold.held_by}\t{hold.held_at:%Y-%m-%d %H:%M} UTC\t{hold.reason}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bot.retention.holds import HoldError

    logging.basicConfig(
        level=settings().log_level or "WARNING", format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (HoldError, ValueError) as error:
        say(f"citybot retention: {error}", sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
