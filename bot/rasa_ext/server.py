"""The Rasa server as citybot runs it: `rasa` itself, with the patches of bot/rasa_ext/patches in place.

Run as `python -m bot.rasa_ext.server run ...` with the arguments of `rasa run`.
Profiling the server under load (py-spy, see README "Speed and scale") showed
costs that come from how Rasa 3.6 does things, not from the work itself; each
patch module says which and what replaces it. They are applied before Rasa
starts, once, and the custom actions the endpoints file names (`actions_module`,
bot/rasa_ext/patches/in_process_actions.py) are imported then, before the workers fork.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from bot.rasa_ext.patches import apply_all
from bot.rasa_ext.patches.in_process_actions import load_actions
from bot.settings import settings


def with_api_token(argv: List[str], token: Optional[str]) -> List[str]:
    """`rasa run` arguments given the API token from the environment (kept out of the process list).

    With the API enabled and no token at all, the server refuses to start: an
    open API would hand every resident's conversation to anyone.
    """
    given = any(arg.split("=", 1)[0] in ("--auth-token", "--jwt-secret") for arg in argv)
    if "--enable-api" not in argv or given:
        return argv
    if not token:
        raise SystemExit("RASA_API_TOKEN is not set: refusing to serve the Rasa HTTP API without a token.")
    # One argument: a generated token may start with "-", which argparse takes for an option.
    return [*argv, f"--auth-token={token}"]


def endpoints_file(argv: List[str]) -> str:
    """The endpoints file `rasa run` reads with these arguments."""
    from rasa.shared.constants import DEFAULT_ENDPOINTS_PATH

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--endpoints", default=DEFAULT_ENDPOINTS_PATH)
    return parser.parse_known_args(argv)[0].endpoints


def main() -> None:
    apply_all()
    from rasa.__main__ import main as rasa_main

    load_actions(endpoints_file(sys.argv[1:]))
    sys.argv = with_api_token(["rasa", *sys.argv[1:]], settings().rasa_api_token)
    rasa_main()


if __name__ == "__main__":
    main()
