"""Reports drafted while the back office is down: the stored catalog and the city file.

The directory tests talk over real HTTP to reference Open311 servers (and to
sockets that refuse, hang or answer 503); tests/e2e/test_catalog_offline.py
starts a whole assistant whose back office is not running yet.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import AsyncIterator, Iterator, List

import pytest
import sqlalchemy as sa
import yaml

from bot.catalog import City, load_city
from bot.db.engine import reset_database
from bot.open311.client import Open311Client
from bot.open311.models import Open311Unavailable, Service, ServiceAttribute, ServiceDefinition
from bot.process.procs import ManagedProcess, free_port
from bot.process.stack import DEFAULT_OPEN311_PATH
from bot.reports import offline_catalog
from bot.reports.directory import ServiceDirectory

RIVERTON = Path(__file__).resolve().parents[3] / "bot" / "city" / "riverton.yml"
POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# The test city file knows two services; the reference servers offer all ten of Riverton's.
CITY_CODES = ["POTHOLE", "WATER_LEAK"]


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"citybot_catalog_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(f"this test needs PostgreSQL at {POSTGRES_URL}: {error}")
    try:
        yield str(sa.engine.make_url(POSTGRES_URL).set(database=name))
    finally:
        reset_database()  # closes our connections first
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def small_city(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[City]:
    """A fresh database (SQLite or PostgreSQL), and a city file with fewer services than the back office has."""
    raw = yaml.safe_load(RIVERTON.read_text(encoding="utf-8"))
    raw["services"] = [s for s in raw["services"] if s["code"] in CITY_CODES]
    city_file = tmp_path / "city.yml"
    city_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    with ExitStack() as cleanup:
        if request.param == "postgresql":
            monkeypatch.setenv("DATABASE_URL", cleanup.enter_context(fresh_postgres_database()))
        else:
            monkeypatch.delenv("DATABASE_URL", raising=False)
        reset_database()
        yield load_city(str(city_file))
        reset_database()


def refusing_url(port: int = 0) -> str:
    """A back office URL on a port nobody listens on (yet)."""
    return f"http://127.0.0.1:{port or free_port()}{DEFAULT_OPEN311_PATH}"


@pytest.fixture
async def unreachable(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A back office that refuses connections, never answers, or answers 503."""
    kind = request.param
    if kind == "refused":
        yield refusing_url()
        return

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if kind == "silent":
            await asyncio.sleep(3600)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield refusing_url(server.sockets[0].getsockname()[1])
    server.close()


def codes(services: List[Service]) -> List[str]:
    return [s.service_code for s in services]


@pytest.mark.parametrize("unreachable", ["refused", "silent", "503"], indirect=True)
async def test_a_fresh_install_drafts_from_the_city_file(small_city, unreachable):
    async with Open311Client(unreachable, api_key="k", timeout=1.0) as client:
        directory = ServiceDirectory(client, city=small_city)
        assert codes(await directory.services()) == CITY_CODES
        pothole = await directory.definition("POTHOLE")
        city_pothole = small_city.service("POTHOLE")
        assert [a.code for a in pothole.attributes] == [a.code for a in city_pothole.attributes]
        assert pothole.attribute("size").keys == city_pothole.attributes[0].values
        assert pothole.attribute("size").required and not pothole.attribute("lane").required
        with pytest.raises(Open311Unavailable):
            await directory.definition("NOISE")  # neither stored nor in the city file
        # Nothing the back office did not say is stored as its catalog.
        assert await offline_catalog.stored_services(client.base_url) is None


async def test_the_city_file_fallback_is_what_the_reference_server_answers(open311_server):
    """Answers drafted from the city file use the choice keys the back office will accept when filed."""
    city = load_city(str(RIVERTON))
    async with open311_server.client() as client:
        assert offline_catalog.city_services(city) == await client.list_services()
        for service in city.services:
            assert offline_catalog.city_definition(service) == await client.get_service_definition(service.code)


async def test_the_last_catalog_is_kept_and_used_while_the_back_office_is_down(small_city, open311_server_factory):
    server = open311_server_factory.start(name="open311-catalog")
    async with server.client() as client:
        online = ServiceDirectory(client, city=small_city)
        fetched = await online.services()
        noise = await online.definition("NOISE")
    assert len(fetched) == 10 and "NOISE" in codes(fetched)
    assert await offline_catalog.stored_services(server.base_url) == fetched
    assert await offline_catalog.stored_definition(server.base_url, "NOISE") == noise
    server.stop()
    async with server.client(timeout=1.0) as client:
        offline = ServiceDirectory(client, city=small_city)  # as after a restart of the action server
        assert await offline.services() == fetched  # the back office's ten, not the city file's two
        assert await offline.definition("NOISE") == noise
        assert (await offline.definition("POTHOLE")).attribute("size") is not None  # never fetched: city file
        with pytest.raises(Open311Unavailable):
            await offline.definition("GRAFFITI")  # never fetched and not in this city file


async def test_a_fresh_catalog_replaces_the_stored_one(small_city, open311_server):
    endpoint = open311_server.base_url
    stale = ServiceDefinition("POTHOLE", [ServiceAttribute(code="old_question", values=[("a", "A")])])
    await offline_catalog.store_services(endpoint, [Service("RETIRED", "A retired service")])
    await offline_catalog.store_definition(endpoint, "POTHOLE", stale)
    assert await offline_catalog.stored_definition(endpoint, "POTHOLE") == stale
    async with open311_server.client() as client:
        directory = ServiceDirectory(client, city=small_city)
        services = await directory.services()
        pothole = await directory.definition("POTHOLE")
    assert "RETIRED" not in codes(services) and "POTHOLE" in codes(services)
    assert [a.code for a in pothole.attributes] == ["size", "lane"]
    assert await offline_catalog.stored_services(endpoint) == services
    assert await offline_catalog.stored_definition(endpoint, "POTHOLE") == pothole


async def test_the_back_office_is_asked_again_once_the_offline_catalog_expires(small_city, tmp_path):
    """An offline catalog stands in briefly; the first look after it expires gets the real one."""
    port = free_port()
    back_office = ManagedProcess(
        name="open311-late",
        argv=[sys.executable, "-m", "bot.open311", "--port", str(port), "--db", str(tmp_path / "late.db")],
        ready_url=f"{refusing_url(port)}/services.json",
        log_path=tmp_path / "open311-late.log",
        env={"OPEN311_API_KEYS": "test-key"},
    )
    async with Open311Client(refusing_url(port), api_key="test-key", timeout=1.0) as client:
        directory = ServiceDirectory(client, offline_ttl=0.0, city=small_city)
        assert codes(await directory.services()) == CITY_CODES
        back_office.start()
        try:
            await asyncio.to_thread(back_office.wait_ready, 60)
            assert len(await directory.services()) == 10
        finally:
            back_office.stop()
