"""A stand-in for the Telegram Bot API, the Twilio REST API and Meta's Graph API, at the HTTP boundary.

Those clouds cannot be reached from here, so tests point the assistant's
TELEGRAM_API_BASE_URL, TWILIO_API_BASE_URL and META_GRAPH_API_BASE_URL at this server. It answers with
payloads shaped like the real APIs' and records every request it got, so a test
can check exactly what would have gone out.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

from bot.process.procs import free_port


@dataclass
class RecordedRequest:
    """One call the assistant made to a cloud API."""

    method: str
    path: str
    headers: Dict[str, str]
    body: Dict[str, Any]
    at: float

    @property
    def api_method(self) -> str:
        """Telegram's method name ("sendMessage") or Twilio's last path part ("Messages.json")."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class FakeCloud:
    """The running fake: its base URL, what it recorded, and failures to inject."""

    port: int
    requests: List[RecordedRequest] = field(default_factory=list)
    # api_method -> how many of the next calls fail with a 500 / 429
    failures: Dict[str, int] = field(default_factory=dict)
    # what a failing Graph API call answers: (status, body); unset, a temporary 500
    graph_failure: Optional[Tuple[int, Dict[str, Any]]] = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: Optional[ThreadingHTTPServer] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph_base_url(self) -> str:
        """What the assistant takes as META_GRAPH_API_BASE_URL (a version, as Meta's has)."""
        return f"{self.base_url}{GRAPH_PREFIX}/v21.0"

    @property
    def telegram_base_url(self) -> str:
        """What python-telegram-bot takes as `base_url` (the token is appended)."""
        return f"{self.base_url}/bot"

    def calls(self, api_method: Optional[str] = None) -> List[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if api_method is None or r.api_method == api_method]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.failures.clear()
            self.graph_failure = None

    def wait_for(
        self, predicate: Callable[[List[RecordedRequest]], bool], timeout: float = 20.0
    ) -> List[RecordedRequest]:
        """Wait until the recorded requests satisfy `predicate`; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.calls()
            if predicate(current):
                return current
            time.sleep(0.05)
        raise AssertionError(f"fake cloud: condition not met in {timeout}s; got {[r.path for r in self.calls()]}")

    def fail_next(self, api_method: str, times: int = 1) -> None:
        with self.lock:
            self.failures[api_method] = times


GRAPH_PREFIX = "/graph"
# Where the fake serves Messenger attachments, as Meta's CDN would.
CDN_PREFIX = "/cdn/"
# A Send API error Meta answers for a temporary failure (send_api_responses.json in ../shared/eval/messenger).
GRAPH_TEMPORARY_ERROR = {
    "error": {
        "message": "(#1200) Temporary send message failure. Please try again later.",
        "type": "OAuthException",
        "code": 1200,
        "error_subcode": 2018024,
        "fbtrace_id": "FTsr5khdiKl",
    }
}


def _graph_sent(body: Dict[str, Any]) -> Dict[str, Any]:
    """The Send API's answer to a message (as Meta documents it)."""
    recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
    return {"recipient_id": recipient.get("id"), "message_id": f"m_{abs(hash((time.time(), str(body)))):x}"}


def _graph_posted(path: str) -> Dict[str, Any]:
    """The Pages API's answer to `POST /{page-id}/feed`: the new post's id, "<page-id>_<post-id>"."""
    page_id = path.rstrip("/").rsplit("/", 2)[-2]
    return {"id": f"{page_id}_{int(time.time() * 1e6) % 10**15}"}


def _telegram_result(method: str, body: Dict[str, Any]) -> Any:
    now = int(time.time())
    if method == "getMe":
        return {
            "id": 7000000001,
            "is_bot": True,
            "first_name": "Riverton 311",
            "username": "riverton311_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
    if method in ("sendMessage", "editMessageText", "sendPhoto"):
        chat_id = body.get("chat_id")
        return {
            "message_id": int(now % 100000),
            "date": now,
            "chat": {"id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0, "type": "private"},
            "from": {"id": 7000000001, "is_bot": True, "first_name": "Riverton 311"},
            "text": body.get("text", ""),
        }
    if method == "getFile":
        file_id = body.get("file_id", "file")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": 1024,
            "file_path": f"photos/{file_id}.jpg",
        }
    if method == "getWebhookInfo":
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
    return True


def _twilio_message(path: str, body: Dict[str, Any]) -> Dict[str, Any]:
    account = path.split("/Accounts/")[1].split("/")[0] if "/Accounts/" in path else "AC"
    sid = f"SM{abs(hash((time.time(), body.get('To')))) % 10**32:032d}"
    return {
        "sid": sid,
        "account_sid": account,
        "to": body.get("To"),
        "from": body.get("From"),
        "messaging_service_sid": body.get("MessagingServiceSid"),
        "body": body.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        "error_code": None,
        "error_message": None,
        "uri": f"{path.rsplit('.', 1)[0]}/{sid}.json",
    }


def _handler(cloud: FakeCloud) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _body(self) -> Dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            if "json" in kind:
                return json.loads(raw or b"{}")
            if "multipart" in kind:
                return {"_raw": raw.decode("utf-8", "replace")}
            return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode("utf-8")).items()}

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            body = self._body() if self.command == "POST" else {}
            record = RecordedRequest(self.command, self.path, dict(self.headers), body, time.time())
            with cloud.lock:
                cloud.requests.append(record)
                remaining = cloud.failures.get(record.api_method, 0)
                if remaining:
                    cloud.failures[record.api_method] = remaining - 1
            is_twilio = "/2010-04-01/" in self.path
            if remaining and self.path.startswith(GRAPH_PREFIX):
                self._reply(*(cloud.graph_failure or (500, GRAPH_TEMPORARY_ERROR)))
                return
            if remaining:
                if is_twilio:
                    self._reply(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
                else:
                    self._reply(
                        429,
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1},
                        },
                    )
                return
            if is_twilio:
                self._reply(201, _twilio_message(self.path, body))
            elif self.path.startswith("/bot"):
                self._reply(200, {"ok": True, "result": _telegram_result(record.api_method, body)})
            elif self.path.startswith(GRAPH_PREFIX) and self.path.endswith("/messages"):
                self._reply(200, _graph_sent(body))
            elif self.path.startswith(GRAPH_PREFIX) and self.path.endswith("/feed"):
                self._reply(200, _graph_posted(self.path))
            elif self.path.startswith("/file/") or self.path.startswith(CDN_PREFIX):
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.end_headers()
                self.wfile.write(b"\xff\xd8\xff\xe0fakejpeg")
            else:
                self._reply(404, {"error": "unknown fake endpoint"})

        do_GET = _handle
        do_POST = _handle

    return Handler


def start_fake_cloud() -> FakeCloud:
    """Start the fake on a free loopback port, in a daemon thread."""
    cloud = FakeCloud(port=free_port())
    cloud.server = ThreadingHTTPServer(("127.0.0.1", cloud.port), _handler(cloud))
    threading.Thread(target=cloud.server.serve_forever, daemon=True).start()
    return cloud
