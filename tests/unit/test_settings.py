"""bot.settings: one configuration per process, `.env` read, documented everywhere it must be."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import pytest

from bot.process.procs import PROJECT_ROOT
from bot.process.stack import STACK_CREDENTIALS, credential_variables
from bot.process.stack_processes import channel_env
from bot.settings import Settings, reload_settings, settings

CITY_VARIABLES = {spec.metadata["variable"] for spec in dataclasses.fields(Settings) if not spec.metadata["internal"]}


def test_every_setting_is_in_env_example_and_readme_and_nothing_else():
    example = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.MULTILINE))
    assert example == CITY_VARIABLES
    readme = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (PROJECT_ROOT / "README.md").read_text()))
    assert CITY_VARIABLES - readme == set()


def test_settings_are_read_once_and_rebuilt_on_request():
    first = settings()
    os.environ["RASA_PORT"] = "5123"  # behind the settings' back: a process's settings do not move
    try:
        assert settings() is first and settings().rasa_port != 5123
        assert reload_settings().rasa_port == 5123
    finally:
        del os.environ["RASA_PORT"]
        reload_settings()


def test_unset_or_empty_is_the_default_and_a_bad_value_names_its_variable():
    assert Settings.from_environ({"RASA_PORT": "", "TRACKER_SHARED": "0"}).rasa_port == 5005
    assert Settings.from_environ({"TRACKER_SHARED": "0"}).tracker_shared is False
    assert Settings.from_environ({"OPEN311_API_KEYS": ""}).open311_api_keys == ""  # no key at all, not the default
    with pytest.raises(ValueError, match="ACTION_PORT"):
        Settings.from_environ({"ACTION_PORT": "fifty"})


def test_dotenv_is_read_but_never_overrides_the_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("OPEN311_URL=https://city.example/open311/v2\nRASA_PORT=6000\n")
    script = (
        f"import bot.settings as s; from pathlib import Path; s.DOTENV_FILE = Path({str(dotenv)!r}); "
        "print(s.settings().open311_url, s.settings().rasa_port)"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("OPEN311_URL", "RASA_PORT")}
    out = subprocess.run(
        [sys.executable, "-c", script], env={**env, "RASA_PORT": "7000"}, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["https://city.example/open311/v2", "7000"]


def test_the_stack_hands_rasa_every_credential_variable_empty_when_unset(monkeypatch):
    import rasa.shared.utils.io

    for variable in credential_variables():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    env = channel_env(settings())
    assert env["TELEGRAM_BOT_TOKEN"] == "123:abc" and env["TWILIO_AUTH_TOKEN"] == ""
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    credentials = rasa.shared.utils.io.read_config_file(str(PROJECT_ROOT / STACK_CREDENTIALS))
    assert credentials["bot.channels.telegram.TelegramInput"]["token"] == "123:abc"
    assert credentials["bot.channels.twilio.TwilioInput"]["auth_token"] == ""
