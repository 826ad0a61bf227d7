"""Tokens shared by the assistant's processes, and how they are checked (bot/rasa_ext/api_tokens.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.rasa_ext.api_tokens import local_secret, presented_token, token_matches
from bot.rasa_ext.server import with_api_token


def request(args=None, headers=None) -> SimpleNamespace:
    return SimpleNamespace(args=args or {}, headers=headers or {})


def test_a_token_is_taken_from_the_query_or_a_bearer_header():
    assert presented_token(request({"token": "abc"})) == "abc"
    assert presented_token(request(headers={"authorization": "Bearer xyz"})) == "xyz"
    assert presented_token(request(headers={"authorization": "Basic xyz"})) is None
    assert presented_token(request(headers={"authorization": "Bearer "})) is None
    assert presented_token(request()) is None


def test_only_the_exact_token_matches():
    assert token_matches("s3cret", "s3cret")
    for wrong in ("s3cre", "s3cret ", "", None, "\udcff"):
        assert not token_matches(wrong, "s3cret")
    assert not token_matches("anything", "") and not token_matches("anything", None)


def test_the_file_is_made_once_and_an_empty_environment_value_does_not_count(tmp_path: Path):
    made = local_secret(tmp_path, "RASA_API_TOKEN", {"RASA_API_TOKEN": "  "})
    assert made == local_secret(tmp_path, "RASA_API_TOKEN", {})
    assert [p.name for p in tmp_path.iterdir()] == ["rasa-api-token"]  # no draft left behind


def test_our_rasa_server_refuses_an_open_api():
    run = ["rasa", "run", "--enable-api", "--port", "5005"]
    assert with_api_token(run, "t0k") == [*run, "--auth-token=t0k"]
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        with_api_token(run, None)
    assert with_api_token(["rasa", "run"], None) == ["rasa", "run"]  # no API, nothing to protect


def test_a_token_starting_with_a_dash_reaches_rasa_as_the_token():
    """secrets.token_urlsafe starts with "-" once in 64 tokens; argparse must not take it for an option."""
    import argparse

    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    run = ["--enable-api"]
    assert parser.parse_args(with_api_token(run, "-Xy_token")).auth_token == "-Xy_token"
    assert with_api_token([*run, "--auth-token=given"], "other") == [*run, "--auth-token=given"]
