"""The one error type a command raises for bad input: printed to stderr, exit code 2."""


class UsageError(Exception):
    """Bad arguments or input data; the message says which and why."""
