"""Patch: with several Sanic workers, the main process is one of them.

Sanic 21.12 (Rasa 3.6's) starts N workers by forking N processes from a main
process that then only waits for them. That main process has imported Rasa
and TensorFlow (`rasa run` imports them before it starts the server), so it
held about a quarter of the Rasa server's memory while serving nothing. Here
the main process forks N - 1 workers and serves as the N-th: the same shared
listening socket, the same forked workers loading their own model after the
fork, one process fewer. It stops on SIGINT or SIGTERM (as Sanic's main did),
and stops its workers when it does.
"""

from __future__ import annotations

from typing import Any, Dict

from bot.rasa_ext.patches.registry import Patch

TARGET = "sanic.app.serve_multiple"


def serve_multiple_in_main(server_settings: Dict[str, Any], workers: int) -> None:
    """Sanic's `serve_multiple`, the main process serving as the last of `workers`."""
    import asyncio
    import multiprocessing

    from sanic.server.runners import serve, trigger_events
    from sanic.server.socket import bind_socket, bind_unix_socket, remove_unix_socket

    server_settings["reuse_port"] = True
    main_start = server_settings.pop("main_start", None)
    main_stop = server_settings.pop("main_stop", None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    trigger_events(main_start, loop)

    # The listening socket, bound once and inherited by every worker (as Sanic's own does).
    unix, backlog = server_settings["unix"], server_settings["backlog"]
    sock = server_settings.get("sock")
    if unix:
        sock = bind_unix_socket(unix, backlog=backlog)
    if sock is None:
        sock = bind_socket(server_settings["host"], server_settings["port"], backlog=backlog)
        sock.set_inheritable(True)
        server_settings.update(sock=sock, host=None, port=None)

    # Forked before the main process serves: each worker loads its own model in its own event loop.
    fork = multiprocessing.get_context("fork")
    forked = [fork.Process(target=serve, kwargs={**server_settings, "run_multiple": True}) for _ in range(workers - 1)]
    for process in forked:
        process.daemon = True
        process.start()
    try:
        # Not `run_multiple`: the main process answers SIGINT as well as SIGTERM, as Sanic's main did.
        serve(**{**server_settings, "run_multiple": False})
    finally:
        for process in forked:
            process.terminate()
        for process in forked:
            process.join()
        trigger_events(main_stop, loop)
        sock.close()
        loop.close()
        remove_unix_socket(unix)


def replacements() -> Dict[str, Any]:
    return {TARGET: serve_multiple_in_main}


PATCH = Patch(
    name="serving_main",
    targets=(TARGET,),
    why=(
        "Sanic 21.12 forks N workers from a main process that only waits, yet holds Rasa and TensorFlow.\n"
        "The main process forks N - 1 workers and serves as the N-th: one process and its memory fewer."
    ),
    replacements=replacements,
)
