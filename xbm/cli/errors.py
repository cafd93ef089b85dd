"""Exit codes scripts can rely on, and the one error type every command raises to end with one of them."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    #: a service refused the request; its problem detail is printed to stderr
    REFUSED = 1
    #: the command line or an input file is wrong; nothing was sent
    USAGE = 2
    #: a service could not be reached (connection refused, DNS, timeout)
    UNREACHABLE = 3
    #: no token, or the token expired or was refused: run `xbm login`
    NOT_LOGGED_IN = 4
    #: `metrics import`: stored, but the report names platform campaigns no campaign's external_refs names
    #: (their rows are listed on stderr and were not stored)
    PARTLY_IMPORTED = 5


class CliError(Exception):
    def __init__(self, message: str, code: Exit) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def usage(message: str) -> CliError:
    return CliError(message, Exit.USAGE)
