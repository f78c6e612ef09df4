"""The errors the command line reports as one line and exit code 2."""


class CLIError(Exception):
    """Something the user can fix: a bad argument, a missing or unreadable file, data that
    does not fit the model. main() prints `fastconv: error: <message>` and returns 2."""


class UsageError(CLIError):
    """A command line argparse rejects; `prog` names the (sub)command, for the --help hint."""

    def __init__(self, message, prog):
        super().__init__(f"{message} (see '{prog} --help')")
