"""The Open311 client and its parser: real cities' responses, the spec's examples, failure mapping."""

from __future__ import annotations

import csv
import json
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, Tuple
from urllib.parse import parse_qsl

import httpx
import pytest

from bot.open311 import client as client_module
from bot.open311.client import Open311Client, client_from_env, request_form, reset_client_from_env
from bot.open311.models import (
    DEV_API_KEY,
    Open311Error,
    Open311ParseError,
    Open311Rejected,
    Open311Unavailable,
    ServiceDefinition,
    ServiceRequest,
)
from bot.open311.parse import (
    decode,
    encode,
    errors_payload,
    format_datetime,
    parse_datetime,
    parse_errors,
    parse_receipts,
    parse_requests,
    parse_service_definition,
    parse_services,
    parse_token_lookups,
)
from tests.support.open311 import RunningServer

# Every sample file and what it is; a new file in the folder fails `test_every_sample_is_covered`.
SAMPLES: Dict[str, Tuple[str, Callable]] = {
    "bloomington_requests.json": ("json", parse_requests),
    "bloomington_services.json": ("json", parse_services),
    "requests_many.xml": ("xml", parse_requests),
    "requests_single.xml": ("xml", parse_requests),
    "san_francisco_requests.xml": ("xml", parse_requests),
    "san_francisco_services.xml": ("xml", parse_services),
    "service_list.json": ("json", parse_services),
    "service_requests.json": ("json", parse_requests),
    "services_giessen.xml": ("xml", parse_services),
    "spec_v2/00_get_service_list.xml": ("xml", parse_services),
    "spec_v2/01_get_service_list.json": ("json", parse_services),
    "spec_v2/02_get_service_definition.xml": ("xml", parse_service_definition),
    "spec_v2/03_get_service_definition.json": ("json", parse_service_definition),
    "spec_v2/05_post_service_request.xml": ("xml", parse_receipts),
    "spec_v2/06_post_service_request.json": ("json", parse_receipts),
    "spec_v2/07_get_service_request_id_from_a_token.xml": ("xml", parse_token_lookups),
    "spec_v2/08_get_service_request_id_from_a_token.json": ("json", parse_token_lookups),
    "spec_v2/09_get_service_requests.xml": ("xml", parse_requests),
    "spec_v2/10_get_service_requests.json": ("json", parse_requests),
    "spec_v2/11_get_service_request.xml": ("xml", parse_requests),
    "spec_v2/12_get_service_request.json": ("json", parse_requests),
}
# Not responses: checked by their own tests below.
OTHER_FILES = {
    "LICENSE-open311status.md",
    "bloomington_real_descriptions.csv",
    "spec_v2/04_post_service_request.txt",
    "spec_v2/13_errors.txt",
    "spec_v2/14_errors.txt",
}
INVALID_JSON_AS_PUBLISHED = [
    "spec_v2/01_get_service_list.json",
    "spec_v2/10_get_service_requests.json",
    "spec_v2/12_get_service_request.json",
]


def _sample(eval_dir: Path, name: str):
    fmt, parse = SAMPLES[name]
    return parse((eval_dir / name).read_bytes(), fmt)


def _http_message_body(path: Path) -> Tuple[int, str]:
    """Status and body of a captured HTTP response ('HTTP/1.1 403 Forbidden', blank line, body)."""
    head, _, body = path.read_text().partition("\n\n")
    return int(head.split()[1]), body


# --- every sample file -------------------------------------------------------------------


def test_every_sample_is_covered(open311_eval_dir: Path) -> None:
    on_disk = {p.relative_to(open311_eval_dir).as_posix() for p in open311_eval_dir.rglob("*") if p.is_file()}
    assert on_disk == set(SAMPLES) | OTHER_FILES


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_parses(open311_eval_dir: Path, name: str) -> None:
    """Every field comes out typed: ids and texts as stripped non-empty strings or None."""
    parsed = _sample(open311_eval_dir, name)
    items = parsed.attributes if isinstance(parsed, ServiceDefinition) else parsed
    assert items
    for item in items:
        for field_name, value in vars(item).items():
            if field_name in ("lat", "long"):
                assert value is None or isinstance(value, float)
            elif field_name == "order":
                assert value is None or isinstance(value, int)
            elif field_name in ("keywords", "values"):
                assert isinstance(value, list)
            elif not isinstance(value, bool):
                assert value is None or (isinstance(value, str) and value and value == value.strip()), field_name


@pytest.mark.parametrize("name", INVALID_JSON_AS_PUBLISHED)
def test_spec_examples_are_really_invalid_json(open311_eval_dir: Path, name: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads((open311_eval_dir / name).read_text())


@pytest.mark.parametrize(
    "json_name, xml_name",
    [
        ("spec_v2/01_get_service_list.json", "spec_v2/00_get_service_list.xml"),
        ("spec_v2/03_get_service_definition.json", "spec_v2/02_get_service_definition.xml"),
        ("spec_v2/06_post_service_request.json", "spec_v2/05_post_service_request.xml"),
        ("spec_v2/08_get_service_request_id_from_a_token.json", "spec_v2/07_get_service_request_id_from_a_token.xml"),
        ("spec_v2/10_get_service_requests.json", "spec_v2/09_get_service_requests.xml"),
        ("spec_v2/12_get_service_request.json", "spec_v2/11_get_service_request.xml"),
    ],
)
def test_spec_json_and_xml_examples_parse_to_the_same_models(
    open311_eval_dir: Path, json_name: str, xml_name: str
) -> None:
    """Bare 001 in the published JSON stays "001", exactly as the XML twin says."""
    assert _sample(open311_eval_dir, json_name) == _sample(open311_eval_dir, xml_name)


def test_spec_service_list_keeps_leading_zeros(open311_eval_dir: Path) -> None:
    services = _sample(open311_eval_dir, "spec_v2/01_get_service_list.json")
    assert [s.service_code for s in services] == ["001", "002", "003"]
    assert services[0].metadata is True and services[0].keywords == ["lorem", "ipsum", "dolor"]
    assert services[0].group == "sanitation"


def test_spec_service_definition(open311_eval_dir: Path) -> None:
    definition = _sample(open311_eval_dir, "spec_v2/03_get_service_definition.json")
    assert definition.service_code == "DMV66"
    (attribute,) = definition.attributes
    assert attribute.code == "WHISHETN" and attribute.required and attribute.variable
    assert attribute.datatype == "singlevaluelist" and attribute.order == 1
    assert attribute.datatype_description is None
    assert attribute.values == [("123", "Ford"), ("124", "Chrysler")]
    assert definition.attribute("WHISHETN") is attribute and definition.attribute("nope") is None


def test_spec_requests_fields(open311_eval_dir: Path) -> None:
    first, second = _sample(open311_eval_dir, "spec_v2/10_get_service_requests.json")
    assert first.service_request_id == "638344" and first.service_code == "006"
    assert first.status == "closed" and not first.is_open and second.is_open
    assert first.zipcode == "94122" and first.address_id == "545483"
    assert first.lat == pytest.approx(37.762221815) and first.long == pytest.approx(-122.4651145)
    assert first.media_url == "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"  # trailing space gone
    assert first.description is None and first.agency_responsible is None
    assert first.requested_at == datetime(2010, 4, 14, 14, 37, 38, tzinfo=timezone.utc)


def test_spec_receipts_and_tokens(open311_eval_dir: Path) -> None:
    (receipt,) = _sample(open311_eval_dir, "spec_v2/06_post_service_request.json")
    assert receipt.service_request_id == "293944" and receipt.account_id is None and receipt.token is None
    assert receipt.service_notice.startswith("The City will inspect")
    (xml_receipt,) = _sample(open311_eval_dir, "spec_v2/05_post_service_request.xml")
    assert xml_receipt.service_notice == receipt.service_notice  # XML indentation stripped
    (lookup,) = _sample(open311_eval_dir, "spec_v2/08_get_service_request_id_from_a_token.json")
    assert (lookup.token, lookup.service_request_id) == ("12345", "638344")


@pytest.mark.parametrize("name, fmt", [("spec_v2/13_errors.txt", "xml"), ("spec_v2/14_errors.txt", "json")])
def test_spec_error_examples(open311_eval_dir: Path, name: str, fmt: str) -> None:
    status, body = _http_message_body(open311_eval_dir / name)
    assert status == 403
    assert parse_errors(body, fmt) == [(403, "Invalid api_key received -- can't proceed with create_request.")]


def test_spec_post_example_is_what_the_client_sends(open311_eval_dir: Path) -> None:
    """The client's form for the spec's example report equals the spec's own POST body."""
    body = (open311_eval_dir / "spec_v2/04_post_service_request.txt").read_text().strip().split("\n\n", 1)[1]
    expected = parse_qsl(body, keep_blank_values=True)
    sent = request_form(
        "001",
        api_key="xyz",
        jurisdiction_id="city.gov",
        lat=37.76524078,
        long=-122.4212043,
        address_string="1234 5th street",
        email="smit333@sfgov.edu",
        device_id="tt222111",
        account_id="123456",
        first_name="john",
        last_name="smith",
        phone="111111111",
        description="A large sinkhole is destroying the street",
        media_url="http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
        attributes={"WHISPAWN": "123456", "WHISDORN": "COISL001"},
    )
    assert sorted(sent) == sorted(expected)


def test_toronto_single_and_many(open311_eval_dir: Path) -> None:
    (single,) = _sample(open311_eval_dir, "requests_single.xml")
    many = _sample(open311_eval_dir, "requests_many.xml")
    assert many[0] == single and len(many) == 2
    assert single.service_request_id == "101005420892" and single.service_code == "CSROWR-12"
    assert single.updated_datetime is None and single.zipcode is None and single.media_url is None
    assert single.lat == pytest.approx(43.691104288) and single.long == pytest.approx(-79.272306875)
    assert single.agency_responsible == "311 Toronto"


def test_san_francisco_quirks(open311_eval_dir: Path) -> None:
    requests = _sample(open311_eval_dir, "san_francisco_requests.xml")
    assert len(requests) == 56
    assert {r.status for r in requests} == {"open", "closed"}  # sent as Open/Closed
    assert sum(r.updated_datetime is None for r in requests) == 52  # xsi:nil="true"
    placeholder = requests[0]
    assert (placeholder.lat, placeholder.long) == (0.0, 0.0) and not placeholder.has_location
    assert placeholder.zipcode == "0" and placeholder.address == "SAN FRANCISCO , CA"
    # no offset and 2-digit fractions: read as UTC rather than dropped
    assert placeholder.requested_at == datetime(2012, 5, 22, 23, 57, 23, 970000, tzinfo=timezone.utc)
    located = [r for r in requests if r.has_location]
    assert located and all(37 < r.lat < 38 for r in located)
    services = _sample(open311_eval_dir, "san_francisco_services.xml")
    assert len(services) == 38 and services[0].service_code == "001" and services[0].keywords == []


def test_giessen_services(open311_eval_dir: Path) -> None:
    services = _sample(open311_eval_dir, "services_giessen.xml")
    assert [s.service_code for s in services][:2] == ["015", "010"]
    assert services[0].service_name == "Abwasser und Wasser" and services[0].description is None
    assert services[3].keywords == ["graffiti", "paintings"] and services[3].metadata is False


def test_chicago_requests(open311_eval_dir: Path) -> None:
    first, second = _sample(open311_eval_dir, "service_requests.json")
    assert first.service_request_id == "14-01100669" and first.status_notes is None
    assert second.status_notes == "Locked" and first.expected_datetime is None


def test_bloomington_requests_match_the_descriptions_file(open311_eval_dir: Path) -> None:
    requests = {r.service_request_id: r for r in _sample(open311_eval_dir, "bloomington_requests.json")}
    with (open311_eval_dir / "bloomington_real_descriptions.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(requests) == 21
    for row in rows:
        request = requests[row["service_request_id"]]
        assert (request.service_name, request.status, request.requested_datetime) == (
            row["service_name"],
            row["status"],
            row["requested_datetime"],
        )
        assert " ".join((request.description or "").split()) == " ".join(row["description"].split())
    unknown = [r for r in requests.values() if not r.has_location]
    assert any(r.lat is None for r in unknown) and any(r.lat == 0 for r in unknown)
    media = [r.media_url for r in requests.values()]
    assert media.count(None) == 20 and any(m and m.startswith("https://") for m in media)  # "" means none


# --- the parser's edges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, reason",
    [
        ('[{"service_code": "A",', "not valid JSON"),
        ('{"service_code": 001 "x"}', "not valid JSON"),
        ("<services><service>", "not valid XML"),
    ],
)
def test_broken_bodies_raise_a_clear_parse_error(body: str, reason: str) -> None:
    fmt = "xml" if body.startswith("<") else "json"
    with pytest.raises(Open311ParseError, match=reason):
        parse_services(body, fmt)


def test_wrong_shapes_raise_parse_errors() -> None:
    with pytest.raises(Open311ParseError, match="list of service objects"):
        parse_services("[1, 2]", "json")
    with pytest.raises(Open311ParseError, match="without service_request_id"):
        parse_requests('[{"status": "open"}]', "json")
    with pytest.raises(Open311ParseError, match="neither service_request_id nor token"):
        parse_receipts('[{"service_notice": "x"}]', "json")


def test_leading_zero_repair_leaves_strings_and_decimals_alone() -> None:
    tree = decode('[{"a": 007, "b": "x 007 y", "c": 0.5, "d": -012, "e": "\\"009"}]', "json")
    assert tree == [{"a": "007", "b": "x 007 y", "c": 0.5, "d": "-012", "e": '"009'}]


def test_xml_with_entities_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><services><service>&a;</service></services>'
    with pytest.raises(Open311ParseError, match="DTD"):
        parse_services(bomb, "xml")


def test_xml_empty_list_and_lone_object() -> None:
    assert parse_requests('<?xml version="1.0"?><service_requests/>', "xml") == []
    assert parse_requests("[]", "json") == []
    lone = parse_requests('{"service_request_id": 5, "lat": "1.5", "long": "bad"}', "json")
    assert lone == [ServiceRequest(service_request_id="5", lat=1.5, long=None)]


def test_booleans_in_every_spelling() -> None:
    body = json.dumps(
        {
            "service_code": "X",
            "attributes": [
                {"code": "a", "required": "True", "variable": "false"},
                {"code": "b", "required": "true", "order": "2"},
                {"code": "c", "required": False, "order": 1, "values": [{"key": 1, "name": None}]},
            ],
        }
    )
    definition = parse_service_definition(body, "json")
    assert [a.code for a in definition.attributes] == ["c", "b", "a"]  # by order, unordered last
    c, b, a = definition.attributes
    assert a.required and not a.variable and b.required and b.variable and not c.required
    assert c.values == [("1", "1")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2010-04-14T06:37:38-08:00", datetime(2010, 4, 14, 14, 37, 38, tzinfo=timezone.utc)),
        ("1994-11-05T13:15:30Z", datetime(1994, 11, 5, 13, 15, 30, tzinfo=timezone.utc)),
        ("2012-05-22 23:57:23.97", datetime(2012, 5, 22, 23, 57, 23, 970000, tzinfo=timezone.utc)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=timezone.utc)),
        ("2024-05-01T08:00:00 05:00", datetime(2024, 5, 1, 3, tzinfo=timezone.utc)),  # '+' lost in a URL
        ("2024-05-01T08:00+0530", datetime(2024, 5, 1, 2, 30, tzinfo=timezone.utc)),
        ("2024-13-01T00:00:00Z", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_datetime(text, expected) -> None:
    assert parse_datetime(text) == expected


def test_format_datetime_round_trips() -> None:
    moment = datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert format_datetime(moment) == "2024-05-01T08:00:00-05:00"
    assert parse_datetime(format_datetime(moment)) == moment.replace(microsecond=0)
    assert format_datetime(datetime(2024, 5, 1)) == "2024-05-01T00:00:00+00:00"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_encode_and_parse_round_trip(fmt: str) -> None:
    errors = [(400, "a & b < c"), (403, "ünïcode")]
    assert parse_errors(encode(errors_payload(errors), fmt, "errors"), fmt) == errors


# --- failure mapping (no server needed) --------------------------------------------------------


def _client(handler: Callable[[httpx.Request], httpx.Response], fmt: str = "json") -> Open311Client:
    return Open311Client(
        "https://city.example/open311/v2", api_key="k", format=fmt, transport=httpx.MockTransport(handler)
    )


async def test_5xx_and_429_are_unavailable_with_the_city_errors() -> None:
    async with _client(lambda r: httpx.Response(503, json=[{"code": 503, "description": "maintenance"}])) as c:
        with pytest.raises(Open311Unavailable) as caught:
            await c.list_services()
    assert caught.value.status == 503 and caught.value.errors == [(503, "maintenance")]
    async with _client(lambda r: httpx.Response(429, text="slow down")) as c:
        with pytest.raises(Open311Unavailable) as caught:
            await c.list_services()
    assert caught.value.errors == [(429, "slow down")]


async def test_4xx_is_rejected_with_errors_even_when_the_city_answers_xml() -> None:
    xml = '<?xml version="1.0"?><errors><error><code>400</code><description>bad lat</description></error></errors>'
    async with _client(lambda r: httpx.Response(400, text=xml)) as c:
        with pytest.raises(Open311Rejected) as caught:
            await c.create_request("X", address_string="1 Main St")
    assert caught.value.status == 400 and caught.value.errors == [(400, "bad lat")]
    assert "bad lat" in str(caught.value)
    assert not isinstance(caught.value, Open311Unavailable)


async def test_garbage_200_is_a_parse_error() -> None:
    async with _client(lambda r: httpx.Response(200, text="<html>maintenance page")) as c:
        with pytest.raises(Open311ParseError, match="GET services.json"):
            await c.list_services()
    async with _client(lambda r: httpx.Response(200, json={"unexpected": True})) as c:
        with pytest.raises(Open311ParseError):
            await c.list_requests()


async def test_timeouts_and_refused_connections_are_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with _client(slow) as c:
        with pytest.raises(Open311Unavailable, match="no answer within"):
            await c.get_request("1")
    with socket.socket() as sock:  # a port nobody listens on: bound, never accepting
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        async with Open311Client(f"http://127.0.0.1:{port}/open311/v2", timeout=2) as c:
            with pytest.raises(Open311Unavailable):
                await c.list_services()


async def test_redirects_are_not_followed() -> None:
    async with _client(lambda r: httpx.Response(302, headers={"Location": "https://elsewhere/"})) as c:
        with pytest.raises(Open311Rejected, match="unexpected HTTP 302"):
            await c.create_request("X", address_string="a")


async def test_404_means_none_for_lookups_but_an_error_elsewhere() -> None:
    async with _client(lambda r: httpx.Response(404, json=[{"code": 404, "description": "nope"}])) as c:
        assert await c.get_request("123") is None
        assert await c.get_request_id_from_token("abc") is None
        with pytest.raises(Open311Rejected):
            await c.get_service_definition("NOPE")


async def test_client_builds_spec_urls_and_params() -> None:
    seen = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="[]" if request.url.path.endswith(".json") else "<service_requests/>")

    client = Open311Client(
        "https://city.example/api/v2/",
        jurisdiction_id="city.example",
        format="json",
        transport=httpx.MockTransport(record),
    )
    async with client:
        await client.list_requests(
            service_request_ids=["1", "2"],
            status=["open", "closed"],
            start_date=datetime(2024, 5, 1, tzinfo=timezone.utc),
            service_code="POTHOLE",
            lat=1.5,
            long=2.5,
            radius=100,
        )
        assert await client.get_request("a/b") is None  # empty list
    request = seen[0]
    assert request.url.path == "/api/v2/requests.json"
    assert dict(request.url.params) == {
        "service_request_id": "1,2",
        "status": "open,closed",
        "start_date": "2024-05-01T00:00:00+00:00",
        "service_code": "POTHOLE",
        "lat": "1.5",
        "long": "2.5",
        "radius": "100",
        "jurisdiction_id": "city.example",
    }
    assert seen[1].url.raw_path == b"/api/v2/requests/a%2Fb.json?jurisdiction_id=city.example"


def test_client_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError):
        Open311Client("http://x", format="csv")  # type: ignore[arg-type]


def test_error_hierarchy() -> None:
    for cls in (Open311Unavailable, Open311Rejected, Open311ParseError):
        assert issubclass(cls, Open311Error)
    error = Open311Rejected("m", status=400, errors=[(400, "d")])
    assert (error.status, error.errors, str(error)) == (400, [(400, "d")], "m")


# --- configuration from the environment ----------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch):
    for name in ("OPEN311_URL", "OPEN311_API_KEY", "OPEN311_JURISDICTION_ID", "OPEN311_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    reset_client_from_env()
    yield monkeypatch
    reset_client_from_env()


def test_client_from_env_defaults_to_the_reference_server(clean_env) -> None:
    client = client_from_env()
    assert client is client_from_env()  # cached
    assert client.base_url == client_module.DEFAULT_URL and client.api_key == DEV_API_KEY
    assert client.timeout == 10 and client.jurisdiction_id is None


def test_client_from_env_for_another_city(clean_env) -> None:
    clean_env.setenv("OPEN311_URL", "https://311.other.gov/v2")
    clean_env.setenv("OPEN311_JURISDICTION_ID", "other.gov")
    clean_env.setenv("OPEN311_TIMEOUT", "2.5")
    client = client_from_env()
    assert client.base_url == "https://311.other.gov/v2" and client.api_key is None  # never our dev key
    assert client.jurisdiction_id == "other.gov" and client.timeout == 2.5
    assert reset_client_from_env() is client and client_from_env() is not client


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf"])
def test_client_from_env_rejects_bad_timeouts(clean_env, value: str) -> None:
    clean_env.setenv("OPEN311_TIMEOUT", value)
    with pytest.raises(ValueError, match="OPEN311_TIMEOUT"):
        client_from_env()


# --- against the real reference server ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_client_round_trip_against_the_reference_server(open311_server: RunningServer, fmt: str) -> None:
    async with open311_server.client(fmt) as client:
        services = await client.list_services()
        assert "POTHOLE" in [s.service_code for s in services]
        definition = await client.get_service_definition("POTHOLE")
        size = definition.attribute("size")
        receipt = await client.create_request(
            "POTHOLE",
            attributes={"size": size.keys[0], "lane": "bike lane"},
            lat=41.8801,
            long=-87.6301,
            description=f"round trip in {fmt}",
        )
        assert receipt.service_request_id and receipt.service_request_id.isdigit() and receipt.token is None
        found = await client.get_request(receipt.service_request_id)
        assert found is not None and found.description == f"round trip in {fmt}"
        assert found.status == "open" and found.status_notes == "received"
        listed = await client.list_requests(service_request_ids=[receipt.service_request_id])
        assert listed == [found]


async def test_idempotency_key_files_once_on_the_reference_server(open311_server: RunningServer) -> None:
    lat, long = -77.85, 166.67  # McMurdo: no other test reports there
    size = {"size": "small (smaller than a dinner plate)"}
    async with open311_server.client() as client:
        receipts = [
            await client.create_request(
                "POTHOLE",
                attributes=size,
                lat=lat,
                long=long,
                description=f"attempt {attempt}",
                idempotency_key="client-retry-1",
            )
            for attempt in (1, 2)
        ]
        assert receipts[0] == receipts[1] and receipts[0].service_request_id
        other = await client.create_request(
            "POTHOLE", attributes=size, lat=lat, long=long, idempotency_key="client-retry-2"
        )
        assert other.service_request_id != receipts[0].service_request_id
        stored = await client.list_requests(service_code="POTHOLE", lat=lat, long=long, radius=100)
        assert sorted(r.service_request_id for r in stored) == sorted(
            [receipts[0].service_request_id, other.service_request_id]
        )
        first = await client.get_request(receipts[0].service_request_id)
        assert first.description == "attempt 1"


async def test_idempotency_key_is_a_header_only_when_given() -> None:
    seen = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"service_request_id": "7"}])

    async with _client(record) as client:
        await client.create_request("X", address_string="1 Main St", idempotency_key="abc-123")
        await client.create_request("X", address_string="1 Main St")
    assert seen[0].headers["Idempotency-Key"] == "abc-123"
    assert "idempotency-key" not in seen[1].headers
    for request in seen:
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert "idempotency" not in request.content.decode().lower()  # a header, never a form field
