"""Errors a user can fix by changing their input (exit code 2 on the CLI)."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input: a file, a key or a value the user can correct.

    The message alone must tell the user what to change, so the CLI prints it
    without a traceback and exits with code 2.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
