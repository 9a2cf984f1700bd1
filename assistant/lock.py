"""The index's writer lock: one process at a time writes an index directory.

Two writers at once corrupt Chroma for good (each process keeps its own in-memory vector
index and persists it over the other's), so ``ingest``, ``remove`` and re-embedding hold an
exclusive ``flock`` on ``<index>/.lock`` for the whole write. Readers never take it. The
holder's pid is written into the file so that a waiting writer can say who it waits for.
The lock is re-entrant within a thread (a writer may call another locked step); other
threads of the same process wait like other processes do.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from types import TracebackType

from .errors import IndexBusy

LOCK_FILE = ".lock"

_held: dict[str, tuple[int, int]] = {}  # lock path → (thread id, depth)
_held_guard = threading.Lock()


class WriterLock:
    """``with WriterLock(index_dir, timeout):`` — exclusive write access to an index.

    Waits up to ``timeout`` seconds for another writer, then raises :class:`IndexBusy`.
    """

    def __init__(self, index_dir: Path, timeout: float = 5.0) -> None:
        self.dir = Path(index_dir)
        self.path = self.dir / LOCK_FILE
        self.timeout = timeout
        self._fd = -1
        self._key = str(self.path.resolve())

    def __enter__(self) -> WriterLock:
        me = threading.get_ident()
        with _held_guard:
            owner, depth = _held.get(self._key, (0, 0))
            if owner == me:
                _held[self._key] = (me, depth + 1)
                return self
        self._acquire()
        with _held_guard:
            _held[self._key] = (me, 1)
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        with _held_guard:
            owner, depth = _held[self._key]
            if depth > 1:
                _held[self._key] = (owner, depth - 1)
                return
            del _held[self._key]
        if self._fd >= 0:
            # Closing the descriptor releases the lock; the pid is left (harmless, and
            # truncating it here would race with the next holder writing its own).
            os.close(self._fd)
            self._fd = -1

    def _acquire(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(self.timeout, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise IndexBusy(
                        f"{self.dir} is being written by another process (pid {pid}); wait "
                        "for it to finish or use another --index") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd


def writer_active(index_dir: Path) -> bool:
    """True while another process or thread holds the writer lock (a cheap, non-blocking
    probe); False for the holder itself."""
    path = Path(index_dir) / LOCK_FILE
    with _held_guard:
        held = _held.get(str(path.resolve()))
    if held is not None:
        return held[0] != threading.get_ident()
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    except OSError:
        return "unknown"
