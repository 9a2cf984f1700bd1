"""Who may use the UI: the ``ASSISTANT_AUTH`` logins, the binding check (a login is required
off loopback) and the login check Gradio calls, which throttles repeated failures.

Plain Python (no gradio), so it is tested without a server.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings, is_loopback
from assistant.errors import ConfigError

log = logging.getLogger("ui")


def parse_auth(auth: str) -> list[tuple[str, str]]:
    """``user:password``, or a path to a file of such lines (blank and # lines ignored)."""
    auth = (auth or "").strip()
    if not auth:
        return []
    p = Path(auth).expanduser()
    if p.is_file():
        pairs = []
        try:
            lines = p.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the auth file {p}: {e}") from None
        for i, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, pw = line.partition(":")
            if not sep or not user.strip() or not pw:
                raise ConfigError(f"{p}:{i}: expected user:password")
            pairs.append((user.strip(), pw))
        if not pairs:
            raise ConfigError(f"the auth file {p} has no user:password lines")
        return pairs
    user, sep, pw = auth.partition(":")
    if not sep or not user.strip() or not pw:
        raise ConfigError("ASSISTANT_AUTH must be user:password or the path of a file of such lines")
    return [(user.strip(), pw)]


def check_bind(settings: Settings) -> list[tuple[str, str]]:
    """The login pairs to use; refuses a non-loopback address without a login."""
    pairs = parse_auth(settings.auth)
    if not pairs and not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to serve on {settings.host} without a login: set ASSISTANT_AUTH=user:password "
            "(or a file of such lines), or bind 127.0.0.1"
        )
    return pairs


@dataclass
class _Record:
    failures: list[float]
    locks: int = 0  # lockouts so far: each one lasts twice as long as the one before
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    """Failed logins per user name: after ``limit`` failures within ``window`` seconds that
    name is locked for ``base`` seconds, each further lockout twice as long (at most ``cap``).
    A success, or ``forget`` seconds without a failure, clears the record.

    Gradio's login callback gets only the name and password, not the client, so the name is
    the key; names nobody uses are tracked too (bounded by ``max_names``) so that a guesser
    learns nothing from the lockouts.
    """

    def __init__(self, limit: int = 5, window: float = 60.0, base: float = 30.0,
                 cap: float = 3600.0, forget: float = 86400.0, max_names: int = 10000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.base, self.cap = limit, window, base, cap
        self.forget, self.max_names, self.clock = forget, max_names, clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def retry_after(self, user: str) -> float:
        """Seconds until ``user`` may try again (0: now)."""
        with self._lock:
            r = self._records.get(user)
            return max(0.0, r.locked_until - self.clock()) if r else 0.0

    def failed(self, user: str) -> None:
        """Count a failed login; the ``limit``-th within the window starts a lockout."""
        now = self.clock()
        with self._lock:
            r = self._records.get(user)
            if r is None or now - r.last > self.forget:
                self._prune(now)
                r = self._records[user] = _Record([])
            r.last = now
            r.failures = [t for t in r.failures if now - t < self.window] + [now]
            if len(r.failures) >= self.limit:
                r.locked_until = now + min(self.cap, self.base * 2 ** r.locks)
                r.locks += 1
                r.failures = []

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._records.pop(user, None)

    def _prune(self, now: float) -> None:
        if len(self._records) < self.max_names:
            return
        for name in [n for n, r in self._records.items()
                     if now - r.last > self.window and r.locked_until <= now]:
            del self._records[name]
        while len(self._records) >= self.max_names:  # all recent: drop the oldest
            del self._records[min(self._records, key=lambda n: self._records[n].last)]


class Login:
    """The ``auth=`` callable for Gradio: constant-time password check, throttled."""

    def __init__(self, pairs: list[tuple[str, str]], throttle: LoginThrottle | None = None) -> None:
        self._users = {u: pw.encode("utf-8") for u, pw in pairs}
        self.throttle = throttle or LoginThrottle()

    def __call__(self, user: str, password: str) -> bool:
        wait = self.throttle.retry_after(user)
        if wait > 0:
            log.warning("login refused for %r: too many failures, locked for %.0f s more",
                        user, wait)
            return False
        # compare against something even for unknown names: the time says nothing about them
        expected = self._users.get(user, b"\0" * 16)
        ok = hmac.compare_digest((password or "").encode("utf-8"), expected) and user in self._users
        if ok:
            self.throttle.succeeded(user)
        else:
            self.throttle.failed(user)
            log.warning("failed login for %r", user)
        return ok
