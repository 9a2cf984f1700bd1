"""Domain exceptions. The CLI and UI turn each into one line; nothing else prints tracebacks."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: its message is shown to the user as it is, on one line."""


class ConfigError(AssistantError):
    """A setting is out of range or inconsistent."""


class InputFileError(AssistantError):
    """One input file cannot be read; the message names the file and the fix."""

    def __init__(self, path: str, reason: str, fix: str = "") -> None:
        self.path = path
        self.reason = reason
        self.fix = fix
        super().__init__(f"{path}: {reason}" + (f" ({fix})" if fix else ""))


class NeedsOCR(InputFileError):
    """A PDF without a text layer."""


class IndexMissing(AssistantError):
    """No index at the configured location."""


class IndexMismatch(AssistantError):
    """The index was built with another embedder or chunker than the one configured."""


class EmbedderError(AssistantError):
    """The embedding model cannot be prepared or loaded."""


class LLMError(AssistantError):
    """The configured answer backend failed (endpoint down, timeout, missing model file)."""


class QuestionFileError(AssistantError):
    """A batch input file is malformed (the message names file and line)."""


class RerankerError(AssistantError):
    """The configured cross-encoder cannot be loaded or fails to score."""


class DraftCheckError(AssistantError):
    """A draft cannot be checked: it loads, but cannot be read as a standard."""


class AdapterError(AssistantError):
    """A query adapter cannot be read, or belongs to another embedder."""


class IndexDamaged(AssistantError):
    """A file of the index is unreadable or inconsistent; the message names it and the fix."""


class IndexBusy(AssistantError):
    """Another process holds the index's writer lock (ingest, remove, re-embed)."""
