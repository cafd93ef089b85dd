"""Exit codes scripts can rely on, and the one error type every command raises to end with one of them."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Exit(IntEnum):
    OK = 0
    #: a service refused the request; its problem detail is printed to stderr
    REFUSED = 1
    #: the command line or an input file is wrong (or a login needs a terminal it has not got); nothing was sent
    USAGE = 2
    #: a service could not be reached (connection refused, DNS, timeout)
    UNREACHABLE = 3
    #: no login, or the token or the API key was refused: run `xbm login`
    NOT_LOGGED_IN = 4
    #: `metrics import`: stored, but the report names platform campaigns no campaign's external_refs names
    #: (their rows are listed on stderr and were not stored)
    PARTLY_IMPORTED = 5


#: each exit code's name in a ``--json`` error, for scripts that prefer words to numbers
KINDS = {
    Exit.REFUSED: "refused",
    Exit.USAGE: "usage",
    Exit.UNREACHABLE: "unreachable",
    Exit.NOT_LOGGED_IN: "not_logged_in",
}


class CliError(Exception):
    def __init__(
        self,
        message: str,
        code: Exit,
        *,
        status: int | None = None,
        problem: Any = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        #: the HTTP status and the problem+json body of a service's refusal, when there was one
        self.status = status
        self.problem = problem
        #: the reasons one by one (a file's invalid fields), where the message lists them too
        self.details = details or []
        #: more for scripts, printed inside a ``--json`` error (such as what a batch sent before it stopped)
        self.extra: dict[str, Any] = {}

    def as_json(self) -> dict[str, Any]:
        """The error as ``--json`` prints it on stdout: ``{"error": {...}}``."""
        error: dict[str, Any] = {"exit_code": int(self.code), "kind": KINDS.get(self.code, "error")}
        error["message"] = self.message
        if self.details:
            error["details"] = self.details
        if self.status is not None:
            error["status"] = self.status
        if self.problem is not None:
            error["problem"] = self.problem
        return {"error": {**error, **self.extra}}


def usage(message: str, details: list[str] | None = None) -> CliError:
    return CliError(message, Exit.USAGE, details=details)
