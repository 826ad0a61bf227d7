"""How one running assistant is set up: ports, storage, tokens and the environment its processes share.

Read from the environment a city sets (StackConfig.from_env) or built by the
tests and the benchmark; bot/process/stack_processes.py turns it into processes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.db.engine import tracker_url
from bot.open311.models import DEV_API_KEY
from bot.process.procs import PROJECT_ROOT
from bot.rasa_ext.api_tokens import ACTION_SERVER_TOKEN, RASA_API_TOKEN, local_secret
from bot.settings import settings

DEFAULT_OPEN311_PATH = "/open311/v2"

# Sanic closes a connection whose request has not started within its keep-alive
# timeout (5 s by default), new connections included: under load the Rasa server
# then loses action calls ("Cannot write to closing transport") and the resident
# gets no answer. Longer than a load balancer's usual 60 s idle timeout.
KEEP_ALIVE_SECONDS = "75"
# Several Rasa processes share a lock store (see bot/rasa_ext/locks.py): Redis when there is
# one (several machines), else PostgreSQL (DATABASE_URL), else a lock file (one machine).
REDIS_LOCK_STORE = "bot.rasa_ext.locks.AtomicRedisLockStore"
DATABASE_LOCK_STORE = "bot.rasa_ext.locks.DatabaseLockStore"
FILE_LOCK_STORE = "bot.rasa_ext.locks.FileLockStore"
LOCK_FILE_NAME = "conversation-locks"  # in the var folder (bot.rasa_ext.locks.LOCK_FILE_NAME: the same name)
# Rasa's SQL tracker store, reading only what is new (see bot/rasa_ext/tracker_store.py).
TUNED_TRACKER_STORE = "bot.rasa_ext.tracker_store.CachedSQLTrackerStore"
# Largest request body each server reads (Sanic answers 413 beyond): the Rasa
# server takes messages and webhooks, the action server a few turns of a conversation.
RASA_MAX_BODY_BYTES = str(1024 * 1024)
ACTION_MAX_BODY_BYTES = str(16 * 1024 * 1024)
# What the Rasa server starts with; the project root's endpoints.yml and
# credentials.yml are for Rasa commands run by hand (no environment needed).
STACK_ENDPOINTS = "deploy/endpoints.yml"
STACK_CREDENTIALS = "deploy/credentials.yml"
ACTIONS_PACKAGE = "actions"  # the custom actions, wherever they run


def credential_variables(path: Path = PROJECT_ROOT / STACK_CREDENTIALS) -> List[str]:
    """The ${VAR}s the stack's credentials.yml expands (Rasa refuses to start on an unset one)."""
    return sorted(set(re.findall(r"\$\{(\w+)\}", path.read_text(encoding="utf-8"))))


def default_workers(variable: str) -> int:
    """Worker processes of a server: the variable, else the machine's cores when scaling out.

    Otherwise two Rasa workers where there are two cores or more: one Rasa
    process keeps a single core busy (its event loop runs in one thread), and
    the second worker nearly doubles the messages a second a 2-core machine
    serves (docs/performance.md), for a second copy of the model in memory.
    One action server process is plenty: it does a small part of the work.
    """
    config = settings()
    if config.get(variable):
        return int(config.get(variable))
    cores = os.cpu_count() or 1
    if config.database_url and config.redis_url:
        return cores
    return min(2, cores) if variable == "RASA_WORKERS" else 1


@dataclass
class StackConfig:
    """Ports, storage and back office of one running assistant."""

    rasa_port: int = 5005
    action_port: int = 5055
    open311_port: int = 8311
    var_dir: Path = PROJECT_ROOT / "var"
    model_path: Path = PROJECT_ROOT / "models"
    open311_url: Optional[str] = None  # None: start and use the reference server
    database_url: Optional[str] = None  # None: SQLite files in var_dir
    extra_env: Dict[str, str] = field(default_factory=dict)
    # Sanic worker processes of the Rasa server and of the action server, each set
    # sharing one port, and further Rasa servers on their own ports (for a load
    # balancer); all share the tracker store and the lock store.
    rasa_workers: int = 1
    action_workers: int = 1
    extra_rasa_ports: List[int] = field(default_factory=list)
    # Our tuned Rasa server, endpoints and threads (bot.rasa_ext.server, deploy/endpoints.yml); False
    # runs stock `rasa run` with bench/endpoints_stock.yml (the benchmark's baseline).
    tuned: bool = True
    # Our Rasa server runs the custom actions itself (bot/rasa_ext/patches/in_process_actions.py);
    # False starts the action server and calls it over HTTP, as stock Rasa always does.
    actions_in_process: bool = True

    @classmethod
    def from_env(cls) -> "StackConfig":
        """Settings a city gives through environment variables (see README)."""
        config = settings()
        return cls(
            rasa_workers=default_workers("RASA_WORKERS"),
            action_workers=default_workers("ACTION_WORKERS"),
            extra_rasa_ports=[config.rasa_port + i for i in range(1, config.rasa_processes)],
            rasa_port=config.rasa_port,
            action_port=config.action_port,
            open311_port=config.open311_port,
            var_dir=config.var_dir,
            model_path=config.rasa_model,
            open311_url=config.open311_url,
            database_url=config.database_url,
            actions_in_process=config.actions_in_process and not config.action_endpoint_url,
        )

    @property
    def scales_out(self) -> bool:
        """Rasa processes on several machines may serve one conversation: PostgreSQL and Redis."""
        return bool(self.database_url) and self.lock_env()["LOCK_STORE_TYPE"] == REDIS_LOCK_STORE

    @property
    def shares_locks(self) -> bool:
        """Several Rasa processes may serve one conversation (a lock store they share)."""
        return self.lock_env()["LOCK_STORE_TYPE"] != "in_memory"

    @property
    def runs_actions_in_rasa(self) -> bool:
        """The Rasa server runs the custom actions itself: no action server process, no HTTP between them."""
        return self.tuned and self.actions_in_process

    def rasa_ports(self) -> List[int]:
        """The ports of every Rasa server process (one, unless the locks are shared)."""
        return [self.rasa_port] + (list(self.extra_rasa_ports) if self.shares_locks else [])

    def workers_env(self, workers: int) -> Dict[str, str]:
        """Sanic worker processes for one server (with shared locks only), one TensorFlow and BLAS thread, no oneDNN.

        The models are small: a second TensorFlow thread per process only adds
        hand-offs between threads (measured: about 10% fewer messages a second
        with two), and several workers must not each start a pool the size of
        the machine. The same holds for numpy's BLAS (OpenBLAS), which computes
        the sentence networks' products (bot/rasa_ext/sentence_network.py): its
        threads wait for a busy core. TensorFlow's oneDNN kernels hold memory of
        their own in every Rasa process and gain nothing on these small sparse
        models; the parses are the same without them (docs/performance.md).
        """
        workers = max(1, workers) if self.shares_locks else 1
        env = {}
        if self.tuned:  # stock Rasa (the benchmark's baseline) keeps TensorFlow's defaults
            env = {
                "TF_INTRA_OP_PARALLELISM_THREADS": settings().tf_intra_op_threads or "1",
                "TF_INTER_OP_PARALLELISM_THREADS": settings().tf_inter_op_threads or "1",
                "TF_ENABLE_ONEDNN_OPTS": settings().tf_onednn_opts or "0",
                "OPENBLAS_NUM_THREADS": settings().openblas_threads or "1",
            }
        if workers > 1:
            env["SANIC_WORKERS"] = str(workers)
        return env

    def server_env(self, workers: int, max_body_bytes: str) -> Dict[str, str]:
        """Environment of a Sanic server (Rasa or actions): keep-alive, body cap, workers, TensorFlow threads."""
        keep_alive = settings().sanic_keep_alive_timeout or KEEP_ALIVE_SECONDS
        return {
            "SANIC_KEEP_ALIVE_TIMEOUT": keep_alive,
            "SANIC_REQUEST_MAX_SIZE": max_body_bytes,
            **self.workers_env(workers),
        }

    def secret(self, variable: str) -> str:
        """A token the processes share: the city's (environment), else the one kept in the var folder."""
        return local_secret(self.var_dir, variable, {variable: settings().get(variable) or "", **self.extra_env})

    @property
    def uses_reference_open311(self) -> bool:
        return self.open311_url is None

    @property
    def effective_open311_url(self) -> str:
        return self.open311_url or f"http://127.0.0.1:{self.open311_port}{DEFAULT_OPEN311_PATH}"

    def tracker_env(self) -> Dict[str, str]:
        """Environment for deploy/endpoints.yml's SQL tracker store."""
        kind = {"TRACKER_STORE_TYPE": TUNED_TRACKER_STORE, "TRACKER_SHARED": "1" if self.shares_locks else "0"}
        url = tracker_url(self.database_url, self.var_dir)
        if self.database_url:
            dialect = self.database_url.split(":", 1)[0].split("+", 1)[0]
            return {**kind, "TRACKER_DIALECT": dialect, "TRACKER_URL": url, "TRACKER_DB": ""}
        db = self.var_dir / "rasa.db"
        return {**kind, "TRACKER_DIALECT": "sqlite", "TRACKER_URL": url, "TRACKER_DB": str(db)}

    def lock_env(self) -> Dict[str, str]:
        """Environment for deploy/endpoints.yml's lock store.

        Redis when REDIS_URL is set. Else, for several Rasa processes: on
        DATABASE_URL (they may run on several machines) the database; on SQLite
        (one machine) kernel locks on a file in the var folder. Else Rasa's
        in-memory store (one process needs nothing more). Stock Rasa (the
        benchmark's baseline) keeps its in-memory store, and so one process,
        unless it scales out.
        """
        redis_url = settings().redis_url or self.extra_env.get("REDIS_URL")
        if redis_url:
            return {"LOCK_STORE_TYPE": REDIS_LOCK_STORE, "LOCK_STORE_URL": redis_url}
        if not self.tuned or (self.rasa_workers <= 1 and not self.extra_rasa_ports):
            return {"LOCK_STORE_TYPE": "in_memory", "LOCK_STORE_URL": ""}
        if self.database_url:
            return {"LOCK_STORE_TYPE": DATABASE_LOCK_STORE, "LOCK_STORE_URL": self.database_url}
        return {"LOCK_STORE_TYPE": FILE_LOCK_STORE, "LOCK_STORE_URL": str(self.var_dir / LOCK_FILE_NAME)}

    def shared_env(self) -> Dict[str, str]:
        """Environment every process gets: where the back office and actions are."""
        env = {
            "OPEN311_URL": self.effective_open311_url,
            "ACTION_ENDPOINT_URL": settings().action_endpoint_url or f"http://127.0.0.1:{self.action_port}/webhook",
            # deploy/endpoints.yml's actions_module: the package the Rasa server runs itself ("": none).
            "ACTIONS_MODULE": ACTIONS_PACKAGE if self.runs_actions_in_rasa else "",
            # The Rasa HTTP API and the action server answer only callers holding these.
            RASA_API_TOKEN: self.secret(RASA_API_TOKEN),
            ACTION_SERVER_TOKEN: self.secret(ACTION_SERVER_TOKEN),
            # Two cores: one TensorFlow thread pool per process is plenty.
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "CITYBOT_VAR_DIR": str(self.var_dir),
        }
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.uses_reference_open311:
            # The reference server accepts the key the assistant files with.
            key = settings().open311_api_key or DEV_API_KEY
            env.update({"OPEN311_API_KEY": key, "OPEN311_API_KEYS": key})
        env.update(self.tracker_env())
        env.update(self.lock_env())
        env.update(self.extra_env)
        return env
