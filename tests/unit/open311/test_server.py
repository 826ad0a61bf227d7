"""The reference Open311 server, started for real and spoken to over HTTP (client and raw httpx)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Union
from urllib.parse import urlencode

import httpx
import pytest

from bench.databases import create_database, drop_database
from bot.catalog import CatalogAttribute, CatalogService, load_city
from bot.open311.client import Open311Client
from bot.open311.geo import haversine_m
from bot.open311.models import ErrorDetail, Open311Rejected
from bot.open311.parse import (
    MEDIA_TYPES,
    decode,
    parse_datetime,
    parse_errors,
    parse_receipts,
    parse_requests,
    parse_token_lookups,
)
from bot.open311.server import ApiError, build_query, parse_fields, validate_new_request
from bot.open311.store import Near, NewRequest, RequestQuery, RequestStore
from tests.support.open311 import Open311ServerFactory, RunningServer

CITY = load_city()
POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
POTHOLE_SIZE = CITY.service("POTHOLE").attributes[0].values[1]  # "medium (up to a car tire)"


def spec_errors(response: httpx.Response, status: int) -> List[ErrorDetail]:
    """Assert the answer is `status` in the spec's error format, in the format the path asked for."""
    assert response.status_code == status, response.text
    fmt = "xml" if response.request.url.path.endswith(".xml") else "json"
    assert response.headers["content-type"] == MEDIA_TYPES[fmt]
    errors = parse_errors(response.content, fmt)
    assert errors and all(code == status for code, _ in errors), errors
    return errors


def pothole_form(api_key: str, **extra: str) -> Dict[str, str]:
    form = {
        "api_key": api_key,
        "service_code": "POTHOLE",
        "lat": "41.88",
        "long": "-87.63",
        "attribute[size]": POTHOLE_SIZE,
    }
    form.update(extra)
    return form


async def post_form(http: httpx.AsyncClient, form: Dict[str, str], fmt: str = "json") -> httpx.Response:
    return await http.post(f"requests.{fmt}", data=form)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Union[Path, str]]:
    """Where a store keeps its requests: a SQLite file (its folders not made yet), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield tmp_path / "not" / "yet" / "there" / "open311.db"
        return
    url = create_database(POSTGRES_URL, "citybot_test_open311")
    try:
        yield url
    finally:
        drop_database(POSTGRES_URL, url)


# --- discovery, services, definitions -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_discovery(open311_http: httpx.AsyncClient, open311_server: RunningServer, fmt: str) -> None:
    response = await open311_http.get(f"discovery.{fmt}")
    assert response.status_code == 200 and response.headers["content-type"] == MEDIA_TYPES[fmt]
    document = decode(response.content, fmt)
    (endpoint,) = document["endpoints"]
    assert endpoint["url"] == open311_server.base_url
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert parse_datetime(document["changeset"]) is not None


async def test_services_list_is_the_city_catalog(
    open311_client: Open311Client, open311_xml_client: Open311Client
) -> None:
    services = await open311_client.list_services()
    assert services == await open311_xml_client.list_services()
    assert [s.service_code for s in services] == [s.code for s in CITY.services]
    pothole = services[0]
    assert pothole.service_name == "Pothole" and pothole.group == "Streets" and pothole.metadata
    assert pothole.type == "realtime" and "pothole" in pothole.keywords


async def test_definitions_ask_the_catalog_questions(
    open311_client: Open311Client, open311_xml_client: Open311Client
) -> None:
    for service in CITY.services:
        definition = await open311_client.get_service_definition(service.code)
        assert definition == await open311_xml_client.get_service_definition(service.code)
        assert definition.service_code == service.code
        assert [a.code for a in definition.attributes] == [a.code for a in service.attributes]
        for order, (got, expected) in enumerate(zip(definition.attributes, service.attributes, strict=True), start=1):
            assert (got.datatype, got.required, got.description, got.order, got.variable) == (
                expected.datatype,
                expected.required,
                expected.description,
                order,
                True,
            )
            assert got.values == [(v, v) for v in expected.values]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_service_definition_is_404(open311_http: httpx.AsyncClient, fmt: str) -> None:
    (error,) = spec_errors(await open311_http.get(f"services/NO_SUCH_THING.{fmt}"), 404)
    assert "NO_SUCH_THING" in error[1]


# --- POST requests -------------------------------------------------------------------------------


async def test_post_stores_everything_and_get_shows_the_public_part(
    open311_http: httpx.AsyncClient, open311_server: RunningServer
) -> None:
    form = pothole_form(
        open311_server.api_key,
        **{
            "attribute[lane]": "bike lane",
            "address_string": "12 Elm Street",
            "description": "Deep hole",
            "email": "resident@example.org",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone": "555-0100",
            "media_url": "https://example.org/p.jpg",
            "device_id": "dev-1",
            "account_id": "acct-9",
        },
    )
    response = await post_form(open311_http, form)
    assert response.status_code == 200, response.text
    (receipt,) = response.json()
    request_id = receipt["service_request_id"]
    assert isinstance(request_id, str) and int(request_id) >= 1001
    assert receipt["account_id"] == "acct-9" and "5 days" in receipt["service_notice"]

    as_json = await open311_http.get(f"requests/{request_id}.json")
    as_xml = await open311_http.get(f"requests/{request_id}.xml")
    assert as_xml.headers["content-type"] == MEDIA_TYPES["xml"]
    (stored,) = parse_requests(as_json.content, "json")
    assert parse_requests(as_xml.content, "xml") == [stored]
    assert (stored.service_code, stored.service_name, stored.status, stored.status_notes) == (
        "POTHOLE",
        "Pothole",
        "open",
        "received",
    )
    assert (stored.lat, stored.long, stored.address) == (41.88, -87.63, "12 Elm Street")
    assert stored.description == "Deep hole" and stored.media_url == "https://example.org/p.jpg"
    assert stored.agency_responsible == "Department of Public Works"
    requested = parse_datetime(stored.requested_datetime)
    assert parse_datetime(stored.expected_datetime) - requested == timedelta(days=5)
    assert abs(requested - datetime.now(timezone.utc)) < timedelta(minutes=5)
    for private in ("resident@example.org", "Lovelace", "555-0100", "dev-1", "token"):
        assert private not in as_json.text and private not in as_xml.text


async def test_post_in_xml_with_an_address_only(open311_xml_client: Open311Client) -> None:
    receipt = await open311_xml_client.create_request(
        "MISSED_TRASH",
        address_string="40 Oak Avenue",
        attributes={"bin_type": "recycling", "set_out_on_time": CITY.service("MISSED_TRASH").attributes[1].values[0]},
    )
    found = await open311_xml_client.get_request(receipt.service_request_id)
    assert found.address == "40 Oak Avenue" and found.lat is None and not found.has_location
    assert parse_datetime(found.expected_datetime) - found.requested_at == timedelta(days=2)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("api_key", [None, "", "wrong-key"])
async def test_post_without_a_valid_api_key_is_403(
    open311_http: httpx.AsyncClient, fmt: str, api_key: Optional[str]
) -> None:
    form = pothole_form("x")
    if api_key is None:
        del form["api_key"]
    else:
        form["api_key"] = api_key
    (error,) = spec_errors(await post_form(open311_http, form, fmt), 403)
    assert "api_key" in error[1]


async def test_client_without_key_is_rejected(open311_server: RunningServer) -> None:
    async with open311_server.client(api_key=None) as client:
        with pytest.raises(Open311Rejected) as caught:
            await client.create_request("POTHOLE", attributes={"size": POTHOLE_SIZE}, lat=1.0, long=1.0)
    assert caught.value.status == 403 and caught.value.errors[0][0] == 403


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"service_code": None}, "service_code is required"),
        ({"service_code": "UFO_SIGHTING"}, "not a service of riverton.gov"),
        ({"attribute[size]": None}, "attribute[size] is required"),
        ({"attribute[size]": "enormous"}, "attribute[size] must be one of"),
        ({"attribute[lane]": "sky"}, "attribute[lane] must be one of"),
        ({"attribute[colour]": "red"}, "attribute[colour] is not a question"),
        ({"lat": "abc"}, "lat must be a number"),
        ({"lat": "nan"}, "lat must be a number"),
        ({"lat": "1e999"}, "lat must be a number"),
        ({"lat": "91"}, "lat must be a number between -90 and 90"),
        ({"long": "-180.5"}, "long must be a number between -180 and 180"),
        ({"long": None}, "lat and long must be sent together"),
        ({"lat": None, "long": None}, "a location is required"),
        ({"description": "x" * 4001}, "description is longer than 4000"),
        ({"description": "bad\x00byte"}, "description contains control characters"),
        ({"email": "not-an-email"}, "email is not an email address"),
        ({"media_url": "ftp://example.org/x.jpg"}, "media_url must be an http(s) URL"),
        ({"first_name": "A" * 201}, "first_name is longer than 200"),
    ],
)
async def test_post_validation_errors_are_400(
    open311_http: httpx.AsyncClient, open311_server: RunningServer, changes: Dict[str, Optional[str]], expected: str
) -> None:
    form = pothole_form(open311_server.api_key)
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    errors = spec_errors(await post_form(open311_http, form), 400)
    assert any(expected in description for _, description in errors), errors


async def test_every_problem_is_reported_at_once(
    open311_http: httpx.AsyncClient, open311_server: RunningServer
) -> None:
    form = {
        "api_key": open311_server.api_key,
        "service_code": "ABANDONED_VEHICLE",
        "lat": "x",
        "long": "0",
        "attribute[days_parked]": "three",
    }
    errors = spec_errors(await post_form(open311_http, form, "xml"), 400)
    descriptions = " | ".join(d for _, d in errors)
    assert "lat must be a number" in descriptions and "attribute[days_parked] must be a number" in descriptions


async def test_number_and_repeated_list_values(open311_http: httpx.AsyncClient, open311_server: RunningServer) -> None:
    ok = {
        "api_key": open311_server.api_key,
        "service_code": "ABANDONED_VEHICLE",
        "address_string": "5 Pine St",
        "attribute[days_parked]": "4.5",
    }
    assert (await post_form(open311_http, ok)).status_code == 200
    twice = urlencode(list(pothole_form(open311_server.api_key).items()) + [("attribute[size]", POTHOLE_SIZE)])
    response = await open311_http.post(
        "requests.json", content=twice, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert "takes one value" in spec_errors(response, 400)[0][1]


async def test_jurisdiction_must_match(open311_http: httpx.AsyncClient, open311_server: RunningServer) -> None:
    assert (await open311_http.get("services.json", params={"jurisdiction_id": "riverton.gov"})).status_code == 200
    spec_errors(await open311_http.get("services.xml", params={"jurisdiction_id": "elsewhere.gov"}), 404)
    form = pothole_form(open311_server.api_key, jurisdiction_id="elsewhere.gov")
    spec_errors(await post_form(open311_http, form), 404)
    form["jurisdiction_id"] = "riverton.gov"
    assert (await post_form(open311_http, form)).status_code == 200


# --- GET requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("request_id", ["999999", "abc", "1001abc"])
async def test_unknown_request_is_404(open311_http: httpx.AsyncClient, fmt: str, request_id: str) -> None:
    spec_errors(await open311_http.get(f"requests/{request_id}.{fmt}"), 404)


async def test_client_gets_none_for_unknown_ids(
    open311_client: Open311Client, open311_xml_client: Open311Client
) -> None:
    assert await open311_client.get_request("999999") is None
    assert await open311_xml_client.get_request("999999") is None


async def _create(client: Open311Client, code: str, lat: float, long: float, **attributes: str) -> str:
    receipt = await client.create_request(code, attributes=attributes, lat=lat, long=long)
    return receipt.service_request_id


async def test_filters(
    open311_client: Open311Client, open311_http: httpx.AsyncClient, open311_server: RunningServer
) -> None:
    # Cape Town: nowhere near the other tests' reports. B is ~1.1 km east of A.
    lat, long = -33.9249, 18.4241
    a = await _create(open311_client, "STREETLIGHT", lat, long, problem="flickering")
    b = await _create(open311_client, "STREETLIGHT", lat, long + 0.012, problem="out")
    c = await _create(open311_client, "FALLEN_TREE", lat, long, blocking="road")
    await open311_http.post(f"requests/{c}/status.json", data={"api_key": open311_server.api_key, "status": "closed"})

    def ids(found) -> set:
        return {r.service_request_id for r in found}

    streetlights = await open311_client.list_requests(service_code="STREETLIGHT")
    assert {a, b} <= ids(streetlights) and all(r.service_code == "STREETLIGHT" for r in streetlights)
    both = await open311_client.list_requests(service_code=["STREETLIGHT", "FALLEN_TREE"])
    assert {a, b, c} <= ids(both)
    closed = await open311_client.list_requests(status="closed")
    assert c in ids(closed) and not {a, b} & ids(closed) and all(r.status == "closed" for r in closed)
    assert not {c} & ids(await open311_client.list_requests(status="open"))

    newest_first = [r.requested_datetime for r in await open311_client.list_requests()]
    assert newest_first == sorted(newest_first, reverse=True)
    now = datetime.now(timezone.utc)
    assert {a, b, c} <= ids(
        await open311_client.list_requests(start_date=now - timedelta(hours=1), end_date=now + timedelta(hours=1))
    )
    assert not {a, b, c} & ids(await open311_client.list_requests(start_date=now + timedelta(hours=1)))
    assert not {a, b, c} & ids(await open311_client.list_requests(end_date=now - timedelta(hours=1)))

    near_a = await open311_client.list_requests(lat=lat, long=long, radius=200)
    assert ids(near_a) == {a, c}
    assert all(haversine_m(lat, long, r.lat, r.long) <= 200 for r in near_a)
    assert ids(await open311_client.list_requests(lat=lat, long=long, radius=2000)) == {a, b, c}
    near_open_lights = await open311_client.list_requests(
        lat=lat, long=long, radius=2000, status="open", service_code="STREETLIGHT"
    )
    assert ids(near_open_lights) == {a, b}

    # service_request_id overrides every other filter, in JSON and XML alike
    by_id = await open311_client.list_requests(service_request_ids=[a, c, "999999"], status="closed")
    assert ids(by_id) == {a, c}
    raw = await open311_http.get("requests.xml", params={"service_request_id": f"{a},{c}"})
    assert {r.service_request_id for r in parse_requests(raw.content, "xml")} == {a, c}


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "pending"}, "status must be open, closed"),
        ({"start_date": "last tuesday"}, "start_date must be a w3 datetime"),
        ({"end_date": "2024-13-45"}, "end_date must be a w3 datetime"),
        ({"start_date": "2024-05-02", "end_date": "2024-05-01"}, "end_date is before start_date"),
        ({"start_date": "2024-01-01", "end_date": "2024-06-01"}, "may not span more than 90 days"),
        ({"lat": "41.8", "long": "-87.6"}, "needs lat, long and radius"),
        ({"lat": "41.8", "long": "-87.6", "radius": "-5"}, "radius must be meters"),
        ({"lat": "41.8", "long": "-87.6", "radius": "inf"}, "radius must be meters"),
        ({"lat": "941.8", "long": "-87.6", "radius": "5"}, "lat must be a number"),
        ({"service_request_id": ",".join(str(n) for n in range(1001))}, "at most 1000"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_bad_filters_are_400(
    open311_http: httpx.AsyncClient, query: Dict[str, str], expected: str, fmt: str
) -> None:
    errors = spec_errors(await open311_http.get(f"requests.{fmt}", params=query), 400)
    assert any(expected in d for _, d in errors), errors


# --- garbage in, spec errors out --------------------------------------------------------------------

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "method, path, body, headers, status",
    [
        ("GET", "services.csv", None, {}, 404),
        ("GET", "services", None, {}, 404),
        ("GET", "nothing/at/all.json", None, {}, 404),
        ("GET", "requests/1001", None, {}, 404),
        ("GET", "requests/%FF%FE.json", None, {}, 404),
        ("GET", "services/" + "A" * 3000 + ".xml", None, {}, 404),
        ("GET", "tokens/.json", None, {}, 404),
        ("POST", "services.json", b"", {}, 405),
        ("DELETE", "requests.xml", None, {}, 405),
        ("PUT", "requests/1001.json", b"x", {}, 405),
        ("POST", "requests.json", b'{"service_code": "POTHOLE"}', {"content-type": "application/json"}, 400),
        ("POST", "requests.xml", b"api_key=\xff\xfe&service_code=POTHOLE", FORM, 400),
        ("POST", "requests.json", "&".join(f"f{i}=1" for i in range(150)).encode(), FORM, 400),
        ("GET", "requests.json?%FF=1", None, {}, 400),
        ("GET", "requests.json?start_date=" + "9" * 5000, None, {}, 400),
        ("POST", "requests/1001/status.json", b"status=closed", FORM, 403),
        ("POST", "requests/1001/status.xml", b"", {}, 403),
    ],
)
async def test_garbage_is_a_spec_4xx_never_a_500(
    open311_http: httpx.AsyncClient, method: str, path: str, body: Optional[bytes], headers: Dict[str, str], status: int
) -> None:
    response = await open311_http.request(method, path, content=body, headers=headers)
    spec_errors(response, status)


async def test_oversized_body_is_413(open311_http: httpx.AsyncClient, open311_server: RunningServer) -> None:
    form = pothole_form(open311_server.api_key, description="x" * 100_000)
    spec_errors(await post_form(open311_http, form), 413)
    assert (await open311_http.get("services.json")).status_code == 200  # still serving


# --- status updates (Riverton extension) ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_staff_status_update(
    open311_http: httpx.AsyncClient, open311_client: Open311Client, open311_server: RunningServer, fmt: str
) -> None:
    request_id = await _create(
        open311_client,
        "GRAFFITI",
        41.7,
        -87.7,
        surface="bridge or overpass",
        offensive=CITY.service("GRAFFITI").attributes[1].values[1],
    )
    route = f"requests/{request_id}/status.{fmt}"
    key = open311_server.api_key
    spec_errors(await open311_http.post(route, data={"status": "closed"}), 403)
    spec_errors(await open311_http.post(route, data={"api_key": "nope", "status": "closed"}), 403)
    spec_errors(await open311_http.post(route, data={"api_key": key, "status": "done"}), 400)
    spec_errors(await open311_http.post(f"requests/999999/status.{fmt}", data={"api_key": key, "status": "open"}), 404)
    response = await open311_http.post(
        route,
        data={"api_key": key, "status": "closed", "status_notes": "closed - fixed", "agency_responsible": "Crew 7"},
    )
    assert response.status_code == 200, response.text
    (answered,) = parse_requests(response.content, fmt)
    found = await open311_client.get_request(request_id)
    assert answered == found
    assert (found.status, found.status_notes, found.agency_responsible) == ("closed", "closed - fixed", "Crew 7")
    assert parse_datetime(found.updated_datetime) >= found.requested_at
    reopened = await open311_http.post(route, data={"api_key": key, "status": "open", "status_notes": "assigned"})
    (again,) = parse_requests(reopened.content, fmt)
    assert (again.status, again.status_notes, again.agency_responsible) == ("open", "assigned", "Crew 7")


# --- idempotent filing (Riverton extension) -----------------------------------------------------------


async def _ids_at(http: httpx.AsyncClient, code: str, lat: float, long: float) -> List[str]:
    """Ids of the `code` reports stored within 50 m of a spot no other test uses."""
    response = await http.get("requests.json", params={"service_code": code, "lat": lat, "long": long, "radius": 50})
    assert response.status_code == 200, response.text
    return [r.service_request_id for r in parse_requests(response.content, "json")]


async def post_keyed(
    http: httpx.AsyncClient, form: Dict[str, str], key: Optional[str], fmt: str = "json"
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await http.post(f"requests.{fmt}", data=form, headers=headers)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_same_idempotency_key_files_once(
    open311_http: httpx.AsyncClient, open311_server: RunningServer, fmt: str
) -> None:
    lat, long = (-54.80, -68.30) if fmt == "json" else (-54.70, -68.20)  # Ushuaia: nobody else reports there
    form = pothole_form(open311_server.api_key, lat=str(lat), long=str(long), description="keyed")
    key = f"retry-{fmt}-" + "k" * 100  # long keys are fine up to 128 characters
    first = await post_keyed(open311_http, form, key, fmt)
    assert first.status_code == 200, first.text
    (receipt,) = parse_receipts(first.content, fmt)
    again = await post_keyed(open311_http, {**form, "description": "changed my mind"}, key, fmt)
    assert again.status_code == 200, again.text
    assert parse_receipts(again.content, fmt) == [receipt]  # the original receipt, notice and all
    assert await _ids_at(open311_http, "POTHOLE", lat, long) == [receipt.service_request_id]
    assert (await open311_http.get(f"requests/{receipt.service_request_id}.json")).json()[0]["description"] == "keyed"
    assert f"request {receipt.service_request_id} was already filed" in open311_server.log_text()


async def test_different_or_no_idempotency_keys_file_twice(
    open311_http: httpx.AsyncClient, open311_server: RunningServer
) -> None:
    lat, long = -54.60, -68.10
    form = pothole_form(open311_server.api_key, lat=str(lat), long=str(long))
    ids = []
    for key in ("first-key", "second-key", None, None):
        response = await post_keyed(open311_http, form, key)
        assert response.status_code == 200, response.text
        ids.append(response.json()[0]["service_request_id"])
    assert len(set(ids)) == 4
    assert sorted(await _ids_at(open311_http, "POTHOLE", lat, long)) == sorted(ids)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", ["", "k" * 129, "tab\there", "ключ".encode(), ["one", "two"]])
async def test_bad_idempotency_key_is_400(
    open311_http: httpx.AsyncClient, open311_server: RunningServer, fmt: str, key: object
) -> None:
    lat, long = -54.50, -68.00
    form = pothole_form(open311_server.api_key, lat=str(lat), long=str(long))
    values = key if isinstance(key, list) else [key]
    headers = [("Idempotency-Key", value) for value in values]
    (error,) = spec_errors(await open311_http.post(f"requests.{fmt}", data=form, headers=headers), 400)
    assert "Idempotency-Key" in error[1]
    assert await _ids_at(open311_http, "POTHOLE", lat, long) == []
    form["api_key"] = "wrong"  # the api_key is checked first, as on every POST
    spec_errors(await open311_http.post(f"requests.{fmt}", data=form, headers=headers), 403)


async def test_idempotency_keys_are_per_api_key_and_survive_a_race(
    open311_server_factory: Open311ServerFactory,
) -> None:
    server = open311_server_factory.start(api_keys=("key-a", "key-b"), name="idempotency")
    lat, long = 41.88, -87.63  # where pothole_form puts every report
    async with httpx.AsyncClient(base_url=server.base_url + "/", timeout=10) as http:
        a1 = await post_keyed(http, pothole_form("key-a"), "shared")
        a2 = await post_keyed(http, pothole_form("key-a"), "shared")
        b1 = await post_keyed(http, pothole_form("key-b"), "shared")
        id_a, id_b = a1.json()[0]["service_request_id"], b1.json()[0]["service_request_id"]
        assert a2.json()[0]["service_request_id"] == id_a and id_b != id_a

        racing = await asyncio.gather(*(post_keyed(http, pothole_form("key-a"), "race") for _ in range(8)))
        assert {r.status_code for r in racing} == {200}
        assert len({r.json()[0]["service_request_id"] for r in racing}) == 1
        assert len(await _ids_at(http, "POTHOLE", lat, long)) == 3
    server.stop()


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_idempotency_in_token_mode(open311_token_server: RunningServer, fmt: str) -> None:
    lat, long = (-54.40, -67.90) if fmt == "json" else (-54.30, -67.80)
    form = pothole_form(open311_token_server.api_key, lat=str(lat), long=str(long))
    async with httpx.AsyncClient(base_url=open311_token_server.base_url + "/", timeout=10) as http:
        receipts = [parse_receipts((await post_keyed(http, form, f"token-{fmt}", fmt)).content, fmt) for _ in range(2)]
        assert receipts[0] == receipts[1]
        (receipt,) = receipts[0]
        assert receipt.token and receipt.service_request_id is None
        other = parse_receipts((await post_keyed(http, form, f"other-{fmt}", fmt)).content, fmt)[0]
        assert other.token != receipt.token
        request_id = parse_token_lookups((await http.get(f"tokens/{receipt.token}.json")).content, "json")[0]
        assert len(await _ids_at(http, "POTHOLE", lat, long)) == 2
        assert request_id.service_request_id in await _ids_at(http, "POTHOLE", lat, long)


# --- token mode, restarts, history, privacy ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_token_mode(open311_token_server: RunningServer, fmt: str) -> None:
    async with open311_token_server.client(fmt) as client:
        receipt = await client.create_request(
            "NOISE",
            address_string="9 Birch Rd",
            attributes={"source": "construction", "happening_now": CITY.service("NOISE").attributes[1].values[0]},
        )
        assert receipt.token and receipt.service_request_id is None
        request_id = await client.get_request_id_from_token(receipt.token)
        assert request_id and request_id.isdigit()
        assert (await client.get_request(request_id)).service_code == "NOISE"
        assert await client.get_request_id_from_token("no-such-token") is None
    async with httpx.AsyncClient(base_url=open311_token_server.base_url + "/") as http:
        raw = await http.get(f"tokens/{receipt.token}.{fmt}")
        (lookup,) = parse_token_lookups(raw.content, fmt)
        assert (lookup.token, lookup.service_request_id) == (receipt.token, request_id)


async def test_ids_are_not_handed_out_without_token_mode(open311_client: Open311Client) -> None:
    receipt = await open311_client.create_request(
        "WATER_LEAK", lat=41.9, long=-87.6, attributes={"source": "fire hydrant"}
    )
    assert receipt.service_request_id and receipt.token is None


async def test_requests_survive_a_restart(
    open311_server_factory: Open311ServerFactory, store_location: Union[Path, str]
) -> None:
    db_path = store_location  # a file's parent folders get created
    first = open311_server_factory.start(db_path, name="restart")
    async with first.client() as client:
        request_id = await _create(client, "SIDEWALK", 41.8, -87.6, hazard="cracked")
        assert request_id == "1001"  # a fresh database starts numbering at 1001
    first.stop()
    assert not first.process.is_running()
    second = open311_server_factory.start(db_path, name="restart")
    async with second.client() as client:
        found = await client.get_request(request_id)
        assert found is not None and found.service_code == "SIDEWALK"
        assert await _create(client, "SIDEWALK", 41.8, -87.6, hazard="sunken") == "1002"


async def test_default_window_is_90_days(
    open311_server_factory: Open311ServerFactory, store_location: Union[Path, str]
) -> None:
    db_path = store_location
    now = datetime.now(timezone.utc)
    async with RequestStore(db_path) as store:
        old = await store.create(NewRequest("POTHOLE", "Pothole"), now=now - timedelta(days=120))
        recent = await store.create(NewRequest("POTHOLE", "Pothole"), now=now - timedelta(days=10))
    server = open311_server_factory.start(db_path, name="history")
    async with server.client() as client:
        assert [r.service_request_id for r in await client.list_requests()] == [recent.service_request_id]
        window = await client.list_requests(start_date=now - timedelta(days=130), end_date=now - timedelta(days=100))
        assert [r.service_request_id for r in window] == [old.service_request_id]
        assert (await client.get_request(old.service_request_id)).requested_datetime == old.requested_datetime
    server.stop()


async def test_contact_details_never_reach_the_log(
    open311_http: httpx.AsyncClient, open311_server: RunningServer
) -> None:
    private = {
        "email": "hidden.person@example.org",
        "phone": "555-0199-77",
        "first_name": "Zebulon",
        "last_name": "Quistgaard",
    }
    ok = await post_form(open311_http, pothole_form(open311_server.api_key, **private))
    request_id = ok.json()[0]["service_request_id"]
    await post_form(open311_http, pothole_form(open311_server.api_key, **private, lat="bad"))
    await open311_http.get("requests.json", params=private)
    log = open311_server.log_text()
    assert f"created request {request_id}" in log  # the log is being written, and this is it
    for value in private.values():
        assert value not in log


# --- store and validation, in process ----------------------------------------------------------------


async def test_store_queries_and_updates(store_location: Union[Path, str]) -> None:
    start = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    async with RequestStore(store_location) as store:
        made = [
            await store.create(
                NewRequest("POTHOLE", "Pothole", lat=41.0 + i * 0.01, long=-87.0, expected_after=timedelta(days=5)),
                now=start + timedelta(minutes=i),
            )
            for i in range(5)
        ]
        assert [r.service_request_id for r in made] == ["1001", "1002", "1003", "1004", "1005"]
        assert made[0].expected_datetime == "2024-05-06T12:00:00+00:00"
        newest = await store.search(RequestQuery(limit=2))
        assert [r.service_request_id for r in newest] == ["1005", "1004"]
        near = await store.search(RequestQuery(near=Near(41.0, -87.0, 1200)))
        assert [r.service_request_id for r in near] == ["1002", "1001"]  # 0 m and ~1.1 km; 1003 is ~2.2 km
        later = start + timedelta(days=1)
        updated = await store.update_status("1003", "closed", "closed - duplicate", now=later)
        assert (updated.status, updated.status_notes, updated.updated_datetime) == (
            "closed",
            "closed - duplicate",
            "2024-05-02T12:00:00+00:00",
        )
        assert updated.agency_responsible is None and updated.requested_datetime == made[2].requested_datetime
        assert await store.update_status("999", "closed", None) is None
        with pytest.raises(ValueError):
            await store.update_status("1003", "resolved", None)
        assert await store.get("not-a-number") is None
        assert (await store.get_by_token(made[4].token)).service_request_id == "1005"
        assert await store.search(RequestQuery(ids=["x", "y"])) == []


def test_haversine() -> None:
    assert haversine_m(0, 0, 0, 0) == 0
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, rel=1e-3)


def test_spec_post_body_attributes(open311_eval_dir: Path) -> None:
    body = (open311_eval_dir / "spec_v2/04_post_service_request.txt").read_text().strip().split("\n\n", 1)[1]
    params = parse_fields(body)
    assert params.attributes() == {"WHISPAWN": ["123456"], "WHISDORN": ["COISL001"]}
    assert params.get("email") == "smit333@sfgov.edu" and params.get("address_string") == "1234 5th street"


def test_validation_of_every_datatype() -> None:
    service = CatalogService(
        code="X",
        name="Test",
        group="",
        agency="",
        description="",
        keywords=[],
        target_days=0,
        attributes=[
            CatalogAttribute("many", "multivaluelist", True, "Which?", ["a", "b", "c"]),
            CatalogAttribute("when", "datetime", False, "When?"),
            CatalogAttribute("count", "number", False, "How many?"),
            CatalogAttribute("note", "text", False, "Anything else?"),
        ],
    )
    params = parse_fields(
        "address_id=77&attribute[many][]=a&attribute[many][]=C&attribute[many][]=a"
        "&attribute[when]=2024-05-01T08:00:00Z&attribute[count]=-2.5&attribute[note]=hi"
    )
    new = validate_new_request(params, service)
    assert new.attributes == {"many": ["a", "c"], "when": "2024-05-01T08:00:00Z", "count": "-2.5", "note": "hi"}
    assert new.address_id == "77" and new.expected_after is None
    with pytest.raises(ApiError) as caught:
        validate_new_request(parse_fields("address_id=1&attribute[many][]=z&attribute[when]=soon"), service)
    assert [d for _, d in caught.value.errors] == [
        "attribute[many] must be one of: a, b, c",
        "attribute[when] must be a w3 datetime, e.g. 2024-05-01T08:00:00Z",
    ]


def test_query_defaults() -> None:
    now = datetime(2024, 5, 1, tzinfo=timezone.utc)
    default = build_query(parse_fields(""), now)
    assert (default.start, default.end, default.limit) == (now - timedelta(days=90), None, 1000)
    only_start = build_query(parse_fields("start_date=2024-01-01T00:00:00Z&status=OPEN"), now)
    assert only_start.end - only_start.start == timedelta(days=90) and only_start.statuses == ["open"]
    by_id = build_query(parse_fields("service_request_id=5,6,5&status=bogus"), now)
    assert by_id == RequestQuery(ids=["5", "6"], limit=1000)


# The requests table as created before idempotency keys existed.
OLD_SCHEMA = """
CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    agency_responsible TEXT,
    service_notice TEXT,
    status TEXT NOT NULL,
    status_notes TEXT,
    description TEXT,
    requested_datetime TEXT NOT NULL,
    updated_datetime TEXT NOT NULL,
    expected_datetime TEXT,
    address TEXT,
    address_id TEXT,
    zipcode TEXT,
    lat REAL,
    long REAL,
    media_url TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    device_id TEXT,
    account_id TEXT
);
CREATE INDEX requests_requested ON requests (requested_datetime);
CREATE INDEX requests_service ON requests (service_code);
INSERT INTO sqlite_sequence (name, seq) VALUES ('requests', 1000);
INSERT INTO requests (token, service_code, service_name, status, requested_datetime, updated_datetime)
VALUES ('old-token', 'POTHOLE', 'Pothole', 'open', '2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00+00:00');
"""


def _columns_and_unique_indexes(db_path: Path):
    with sqlite3.connect(str(db_path)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(requests)")]
        unique = {row[1] for row in connection.execute("PRAGMA index_list(requests)") if row[2]}
        indexed = {name: [r[2] for r in connection.execute(f"PRAGMA index_info({name})")] for name in unique}
    connection.close()
    return columns, indexed


async def test_old_database_gets_the_idempotency_column(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    with sqlite3.connect(str(db_path)) as connection:
        connection.executescript(OLD_SCHEMA)
    connection.close()
    assert "idempotency_key" not in _columns_and_unique_indexes(db_path)[0]
    for _ in range(2):  # migrating once, then opening an up-to-date file, both work
        async with RequestStore(db_path) as store:
            old = await store.get("1001")
            assert old is not None and old.token == "old-token"
        columns, indexed = _columns_and_unique_indexes(db_path)
        assert columns.count("idempotency_key") == 1
        assert ["idempotency_key"] in indexed.values()
    async with RequestStore(db_path) as store:
        first, created = await store.create_once(NewRequest("POTHOLE", "Pothole"), "k1")
        again, created_again = await store.create_once(NewRequest("GRAFFITI", "Graffiti"), "k1")
        assert (first.service_request_id, created, created_again) == ("1002", True, False)
        assert again == first
        assert (await store.create(NewRequest("POTHOLE", "Pothole"))).service_request_id == "1003"


async def test_new_database_has_the_idempotency_column(tmp_path: Path) -> None:
    async with RequestStore(tmp_path / "new.db"):
        pass
    columns, indexed = _columns_and_unique_indexes(tmp_path / "new.db")
    assert "idempotency_key" in columns and ["idempotency_key"] in indexed.values()


async def test_store_idempotency_across_connections(store_location: Union[Path, str]) -> None:
    """Two stores on one database (two processes, in effect): the UNIQUE index keeps one row per key."""
    db_path = store_location
    async with RequestStore(db_path) as one, RequestStore(db_path) as two:
        made = await one.create(NewRequest("POTHOLE", "Pothole", description="first"), idempotency_key="k")
        raced, created = await two.create_once(NewRequest("POTHOLE", "Pothole", description="second"), "k")
        assert raced == made and not created
        results = await asyncio.gather(
            *(store.create_once(NewRequest("NOISE", "Noise"), "burst") for store in (one, two) * 5)
        )
        assert len({stored.service_request_id for stored, _ in results}) == 1
        assert [created for _, created in results].count(True) == 1
        plain = [await one.create(NewRequest("POTHOLE", "Pothole")) for _ in range(2)]
        # replays consume no ids, and reports without a key never collide
        assert [made.service_request_id, results[0][0].service_request_id] + [p.service_request_id for p in plain] == [
            "1001",
            "1002",
            "1003",
            "1004",
        ]
        assert len(await one.search(RequestQuery(limit=100))) == 4
