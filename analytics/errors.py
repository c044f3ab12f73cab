"""Errors a user can cause. Pages and the CLI catch only these; anything else is a bug.

Every message says what is wrong, where, and how to fix it, in one paragraph a person can read.
"""

from __future__ import annotations


class TouchpointError(Exception):
    """Base class for problems caused by input or configuration, never by a bug."""

    exit_code = 2


class ConfigError(TouchpointError, ValueError):
    """A setting has a value Touchpoint cannot use."""


class ReadError(TouchpointError, ValueError):
    """A file cannot be read as a table (unknown format, undecodable, empty, corrupt)."""


class MappingError(TouchpointError, ValueError):
    """Columns cannot be mapped onto the data contract (unknown column, duplicate target)."""


class ValidationFailed(TouchpointError, ValueError):
    """A load was refused because rows are invalid and the policy is `reject`."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class WarehouseError(TouchpointError):
    """The warehouse cannot do what was asked (unknown dataset, version out of range, ...)."""
