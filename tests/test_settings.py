"""The backend's settings, read from the environment."""

from __future__ import annotations

import pytest

from indexer.settings import Settings, SettingsError, settings


def test_the_default_is_the_embedded_whoosh_index(monkeypatch):
    for name in Settings().environment():
        monkeypatch.delenv(name, raising=False)
    assert settings() == Settings() and settings().backend == "whoosh"


def test_settings_read_back_from_the_environment_they_give(monkeypatch):
    chosen = Settings("xapian", (("127.0.0.1", 7001), ("shard-2.example", 7002)), 4, 0.5)
    for name, value in chosen.environment().items():
        monkeypatch.setenv(name, value)
    assert settings() == chosen and settings().remote


@pytest.mark.parametrize("name, value, message", [
    ("MORGUE_BACKEND", "elastic", "MORGUE_BACKEND: 'elastic' is not one of whoosh, xapian"),
    ("MORGUE_SHARDS", "localhost", "MORGUE_SHARDS: 'localhost' is not host:port"),
    ("MORGUE_SHARDS", "h:99999", "MORGUE_SHARDS: 'h:99999' is not host:port"),
    ("MORGUE_SHARD_COUNT", "0", "MORGUE_SHARD_COUNT: '0' is not a positive number"),
    ("MORGUE_SHARD_TIMEOUT", "soon", "MORGUE_SHARD_TIMEOUT: 'soon' is not a positive number"),
])
def test_a_setting_with_no_meaning_says_which_in_one_line(monkeypatch, name, value, message):
    monkeypatch.setenv("MORGUE_BACKEND", "xapian")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        settings()
    assert str(raised.value) == message


def test_shards_are_for_the_xapian_backend(monkeypatch):
    monkeypatch.setenv("MORGUE_BACKEND", "whoosh")
    monkeypatch.setenv("MORGUE_SHARDS", "127.0.0.1:7001")
    with pytest.raises(SettingsError, match="MORGUE_SHARDS is for MORGUE_BACKEND=xapian"):
        settings()
