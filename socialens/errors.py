"""Exceptions raised by SociaLens.

Every error derives from :class:`SocialensError`; most also derive from the builtin that fits, so
callers can catch either (the pattern of ibis' ``IbisInputError``). Messages say what is wrong, where
(file, line, field) and what to do next.
"""

from __future__ import annotations

__all__ = [
    "SocialensError",
    "WorkspaceError",
    "SchemaError",
    "InputFileError",
    "RecordError",
    "AnalysisError",
    "EnrichError",
    "CollectError",
]


class SocialensError(Exception):
    """Base class of every SociaLens error."""


class WorkspaceError(SocialensError, OSError):
    """The workspace file cannot be opened or is not a SociaLens workspace."""


class SchemaError(SocialensError, RuntimeError):
    """The workspace schema is older or newer than this version of SociaLens understands."""


class InputFileError(SocialensError, ValueError):
    """A whole input file cannot be read (missing, unknown format, not a folder of known files)."""


class RecordError(SocialensError, ValueError):
    """One input record is invalid. Ingest catches it and puts the record in quarantine.

    Parameters
    ----------
    reason : str
        What is wrong and what to do about it.
    field : str, optional
        The offending field or column.
    """

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field


class AnalysisError(SocialensError, ValueError):
    """An analysis cannot run with the given parameters on this workspace."""


class EnrichError(SocialensError, ValueError):
    """Enrichment cannot run with the given parameters (unknown mode, read-only workspace...)."""


class CollectError(SocialensError, RuntimeError):
    """A live collection cannot start or had to stop (bad platform, missing token, server failing).

    Raw pages fetched before the error are kept on disk and ingested; the message says how to
    continue.
    """
