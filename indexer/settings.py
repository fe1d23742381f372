"""Which backend holds the archive, read from the environment.

``MORGUE_BACKEND`` is ``whoosh`` (the default: one embedded index) or ``xapian`` (the
archive in shards). With ``xapian``, ``MORGUE_SHARDS`` lists the ``host:port`` of each
shard's ``xapian-tcpsrv``, in order; without it the shards are local directories of the
index directory, ``MORGUE_SHARD_COUNT`` of them (2 unless set) when an index is first
built or rebuilt. ``MORGUE_SHARD_TIMEOUT`` is how long a search waits for a shard, in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

BACKENDS = ("whoosh", "xapian")
SHARD_COUNT = 2
SHARD_TIMEOUT = 1.0


class BackendError(RuntimeError):
    """The backend cannot answer (its one-line message says why)."""


class SettingsError(BackendError, ValueError):
    """A setting in the environment has no meaning (the message says which)."""


@dataclass(frozen=True)
class Settings:
    backend: str = "whoosh"
    shards: tuple[tuple[str, int], ...] = ()  # remote shards (host, port); () for local
    shard_count: int | None = None  # local shards of a new index or a rebuild (None: 2)
    shard_timeout: float = SHARD_TIMEOUT

    @property
    def remote(self) -> bool:
        return bool(self.shards)

    def environment(self) -> dict[str, str]:
        """The environment variables that give these settings (for a child process)."""
        return dict(MORGUE_BACKEND=self.backend,
                    MORGUE_SHARDS=",".join(f"{host}:{port}" for host, port in self.shards),
                    MORGUE_SHARD_COUNT=str(self.shard_count or ""),
                    MORGUE_SHARD_TIMEOUT=str(self.shard_timeout))


def _endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"MORGUE_SHARDS: {text.strip()!r} is not host:port")
    return host.strip("[]"), int(port)


def _number(name: str, default, kind):
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise SettingsError(f"{name}: {text!r} is not a positive number")
    return value


def settings() -> Settings:
    """The settings of the environment; SettingsError for one that makes no sense."""
    backend = os.environ.get("MORGUE_BACKEND", "").strip().lower() or "whoosh"
    if backend not in BACKENDS:
        raise SettingsError(f"MORGUE_BACKEND: {backend!r} is not one of "
                            f"{', '.join(BACKENDS)}")
    shards = tuple(_endpoint(part) for part in os.environ.get("MORGUE_SHARDS", "").split(",")
                   if part.strip())
    if shards and backend != "xapian":
        raise SettingsError("MORGUE_SHARDS is for MORGUE_BACKEND=xapian")
    return Settings(backend, shards, _number("MORGUE_SHARD_COUNT", None, int),
                    _number("MORGUE_SHARD_TIMEOUT", SHARD_TIMEOUT, float))
