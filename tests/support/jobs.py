"""A careers site served by the test over real HTTP (aiohttp), whose answer the test changes or breaks.

`FeedSite` serves one path; the test sets what it answers (a body and content
type, an error status) or stops it (connection refused), and counts the reads.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.jobs.source import SHIPPED_FEED

FEED_PATH = "/jobs/postings.jsonld"


def shipped_document() -> Dict[str, Any]:
    """The city's own feed as a document the test may change (a deep copy each time)."""
    return copy.deepcopy(json.loads(SHIPPED_FEED.read_text(encoding="utf-8")))


def job_posting(identifier: str, title: str, department: str, **extra: Any) -> Dict[str, Any]:
    """A JobPosting as the city's feed writes one, open until well after the tests' dates."""
    posting: Dict[str, Any] = {
        "@type": "JobPosting",
        "identifier": {"@type": "PropertyValue", "name": "City of Riverton", "value": identifier},
        "title": title,
        "description": extra.pop("description", "Work for the city."),
        "datePosted": "2026-12-05",
        "validThrough": extra.pop("validThrough", "2099-01-31T23:59:00-06:00"),
        "employmentType": extra.pop("employmentType", "FULL_TIME"),
        "hiringOrganization": {
            "@type": "Organization",
            "name": "City of Riverton",
            "department": {"@type": "Organization", "name": department},
        },
        "url": f"https://www.riverton.gov/jobs/{identifier}",
    }
    posting.update(extra)
    return posting


@dataclass
class FeedSite:
    """What the site answers on FEED_PATH; `url` is the feed's address."""

    url: str = ""
    body: bytes = b""
    content_type: str = "application/ld+json"
    status: int = 200
    delay: float = 0.0  # seconds before answering (a feed slower than the timeout)
    reads: List[str] = field(default_factory=list)
    runner: Optional[web.AppRunner] = None
    port: int = 0

    def serve(self, document: Any, content_type: str = "application/ld+json") -> None:
        """Answer with `document` (JSON-encoded unless bytes or text)."""
        if isinstance(document, bytes):
            self.body = document
        elif isinstance(document, str):
            self.body = document.encode("utf-8")
        else:
            self.body = json.dumps(document).encode("utf-8")
        self.content_type = content_type
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.reads.append(request.headers.get("Accept", ""))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status, text="unavailable")
        return web.Response(body=self.body, headers={"Content-Type": self.content_type})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(FEED_PATH, self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}{FEED_PATH}"

    async def stop(self) -> None:
        """Nothing listens any more: reads are refused."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
