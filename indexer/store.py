"""Where the index lives on disk, and how a new build replaces it atomically.

An index directory holds one or more *generations*, each a complete index (a Whoosh
index, or the shards of the Xapian backend and their bookkeeping: see
:mod:`indexer.shards.writing`) described by its ``morgue.json``, and a symbolic link
``current`` naming the live one. Incremental updates commit into the live
generation (Whoosh commits are atomic); a rebuild fills a fresh generation and then
repoints ``current`` with one ``rename``, so a reader sees the old index or the new one,
never a half-built one; ``previous`` names the generation live before it, kept for the
searchers still open on it.

One writer at a time holds ``write.lock`` (an ``flock``, which the kernel releases when
its process dies, so a killed writer never leaves a lock that blocks). The holder writes
its pid into the file and empties it when done: a writer that finds a pid there knows
the last one was killed, and removes what it left (an unfinished generation, a link
being swapped), which no live writer can be using while the lock is held.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import shutil
import time
from pathlib import Path

import platformdirs
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from .codec import LAYOUT
from .schema import SCHEMA, SCHEMA_VERSION
from .settings import BackendError

CURRENT = "current"
PREVIOUS = "previous"
SOURCES = "sources.json"  # a digest of each source file
RECORDS = "records.json"  # each record's digest and article's content hash, per file
VERSION = "morgue.json"

log = logging.getLogger(__name__)


class IndexMissing(LookupError):
    """There is no built index in the directory."""


class WrongBackend(IndexMissing, BackendError):
    """The index was built for another backend, or other shards, than the settings
    name."""


class IndexBusy(RuntimeError):
    """Another process is writing to the index."""


class MappedStorage(FileStorage):
    """Whoosh's file storage, reading each file through a read-only memory map: the
    pages are the operating system's file cache, shared by every searcher, thread and
    process, where Whoosh's compound segments copy each file into every reader. The
    indexer writes segments as separate files (``compound=False``) for this."""

    def open_file(self, name, **kwargs):
        with open(self._fpath(name), "rb") as file:
            if os.fstat(file.fileno()).st_size == 0:  # an empty file cannot be mapped
                return super().open_file(name, **kwargs)
            return StructFile(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ),
                              name=name, **kwargs)


def open_index(generation: Path):
    """The Whoosh index in the directory ``generation``, read through a MappedStorage."""
    return MappedStorage(str(generation)).open_index()


def default_index_dir() -> Path:
    """``$MORGUE_INDEX``, else a per-user data directory."""
    return Path(os.environ.get("MORGUE_INDEX") or
                Path(platformdirs.user_data_dir("morgue")) / "index")


def live_generation(index_dir: Path) -> Path | None:
    """The directory of the live generation, or None when nothing was published yet."""
    link = Path(index_dir) / CURRENT
    if not link.is_symlink():
        return None
    return (Path(index_dir) / os.readlink(link)).resolve()


def generation_meta(generation: Path | None) -> dict:
    """What the ``morgue.json`` of ``generation`` says: ``schema_version``, ``backend``
    (``whoosh`` when absent) and the backend's own keys; {} when there is none."""
    try:
        meta = json.loads((generation / VERSION).read_text("utf-8"))
    except (TypeError, OSError, ValueError):
        return {}
    return dict(meta, backend=meta.get("backend", "whoosh")) if isinstance(meta, dict) else {}


def check_backend(index_dir: Path, meta: dict, backend: str) -> None:
    """WrongBackend when ``meta`` (of the live generation of ``index_dir``) describes an
    index of this schema built for another backend than ``backend``."""
    if meta.get("schema_version") == SCHEMA_VERSION and meta["backend"] != backend:
        raise WrongBackend(f"the index in {index_dir} was built for the {meta['backend']} "
                           "backend: rebuild it with `morgue index --rebuild`")


def _current(generation: Path | None, backend: str = "whoosh") -> bool:
    """True when ``generation`` holds an index of this version of the schema for
    ``backend`` (a Whoosh index: in this layout of its postings)."""
    meta = generation_meta(generation)
    return (meta.get("schema_version") == SCHEMA_VERSION and meta["backend"] == backend
            and (backend != "whoosh" or (meta.get("layout") == LAYOUT
                                         and whoosh_index.exists_in(str(generation)))))


def open_live(index_dir: Path):
    """Open the live Whoosh index for reading."""
    generation = live_generation(index_dir)
    check_backend(index_dir, generation_meta(generation), "whoosh")
    if generation is None or not whoosh_index.exists_in(str(generation)):
        raise IndexMissing(f"no index in {index_dir}: build one with `morgue index`")
    if not _current(generation):
        raise IndexMissing(f"the index in {index_dir} was built by another version of "
                           "morgue: rebuild it with `morgue index`")
    return open_index(generation)


class WriteSession:
    """Exclusive write access to an index directory, for the life of a ``with`` block."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock_file = None

    def __enter__(self) -> "WriteSession":
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.index_dir / "write.lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            owner = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            raise IndexBusy(f"{self.index_dir} is being written by {owner}; "
                            "wait for it to finish") from None
        self._lock_file.seek(0)
        killed = self._lock_file.read().strip()
        removed = self._remove_leftovers()
        if killed or removed:
            log.warning("%s: %s was interrupted; %s", self.index_dir,
                        killed or "an earlier writer",
                        f"removed what it left unfinished ({', '.join(removed)})" if removed
                        else "the index is as its last complete run left it")
        self._lock_file.truncate(0)
        self._lock_file.write(f"morgue index (pid {os.getpid()})")
        self._lock_file.flush()
        return self

    def __exit__(self, *exc_info):
        self._lock_file.truncate(0)
        self._lock_file.close()

    def new_generation_dir(self, backend: str = "whoosh", **meta) -> Path:
        """Create a new generation directory (not yet live) whose ``morgue.json`` says
        this schema version, ``backend`` and ``meta``."""
        path = self.index_dir / f"gen-{time.time_ns()}"
        path.mkdir()
        (path / VERSION).write_text(json.dumps(
            dict(schema_version=SCHEMA_VERSION, backend=backend, **meta)), "utf-8")
        return path

    def new_generation(self):
        """Create an empty Whoosh index in a new generation directory (not yet live)."""
        return MappedStorage(str(self.new_generation_dir(layout=LAYOUT))).create_index(SCHEMA)

    def live_dir(self, backend: str, rebuild: bool = False) -> Path | None:
        """The live generation's directory, or None when none was published yet, it was
        built by another version of the schema (so that it is built anew), or it was
        built for another backend and this is a ``rebuild`` (WrongBackend otherwise)."""
        generation = live_generation(self.index_dir)
        if not rebuild:
            check_backend(self.index_dir, generation_meta(generation), backend)
        return generation if _current(generation, backend) else None

    def live(self, rebuild: bool = False):
        """The live Whoosh index, or None (see :meth:`live_dir`)."""
        generation = self.live_dir("whoosh", rebuild)
        return open_index(generation) if generation is not None else None

    def publish(self, generation) -> None:
        """Make ``generation`` (a directory, or a Whoosh index in one) the live one,
        atomically, and drop old ones.

        The generation that was live until now is kept as ``previous``, so that
        searchers still open on it finish their work; older ones are removed.
        """
        if not isinstance(generation, Path):
            generation = Path(generation.storage.folder)
        previous = live_generation(self.index_dir)
        if previous is not None:
            self._link(PREVIOUS, previous.name)
        self._link(CURRENT, generation.name)
        self._remove_leftovers()

    def _link(self, name: str, generation: str) -> None:
        """Point the link ``name`` at ``generation``, atomically and durably."""
        tmp = self.index_dir / f"{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(generation)
        os.replace(tmp, self.index_dir / name)
        dir_fd = os.open(self.index_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _remove_leftovers(self) -> list[str]:
        """Remove the generations neither ``current`` nor ``previous`` names and links
        left half-swapped (only ever called with the lock held); their names."""
        keep = {(self.index_dir / name).resolve() for name in (CURRENT, PREVIOUS)
                if (self.index_dir / name).is_symlink()}
        removed = []
        for path in sorted(self.index_dir.glob("gen-*")):
            if path.resolve() not in keep:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        for path in sorted(self.index_dir.glob("*.tmp")):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
        return removed


def read_sources(generation: Path, name: str = SOURCES) -> dict:
    """What the last commit of the index in the directory ``generation`` recorded of
    its source files in ``name``: a digest of each (SOURCES), or of each of its records
    with the content hash of the article it was read as (RECORDS)."""
    try:
        return json.loads((generation / name).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def write_sources(generation: Path, sources: dict, name: str = SOURCES) -> None:
    """Record ``sources`` as ``name`` beside the index in the directory ``generation``
    (see :func:`read_sources`), replacing the old record atomically."""
    path = generation / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sources, sort_keys=True), "utf-8")
    os.replace(tmp, path)
