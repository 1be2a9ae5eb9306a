"""The ``accessaudit`` command: a thin layer over the Python API, made for cron.

Exit status: 0 ran (and found nothing at or above ``--fail-on``), 1 findings at or above it
(for ``verify``: a file whose hash does not match), 2 bad input or configuration — one clear
line on stderr, nothing half-written. Logs and progress go to stderr; ``--format json`` puts
only JSON on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, cast

from accessaudit._version import __version__
from accessaudit.errors import AccessAuditError

__all__ = ["build_parser", "main", "run"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2

#: Modules that each add one family of sub-commands (``register(subparsers)``).
COMMAND_MODULES = (
    "accessaudit.cli.core",
    "accessaudit.cli.audit",
    "accessaudit.cli.review",
    "accessaudit.cli.diff",
    "accessaudit.cli.scope",
    "accessaudit.cli.discover",
    "accessaudit.cli.evidence",
)


#: One example per command, shown at the end of its ``--help`` (tests/test_cli_habits.py
#: checks every command has one).
EXAMPLES: dict[str, str] = {
    "demo": "accessaudit demo --out accessaudit-demo",
    "collect": "accessaudit collect --config audit.toml --out snapshots/2026-Q4",
    "verify": "accessaudit verify snapshots/2026-Q4",
    "keygen": "accessaudit keygen keys/audit-signing.pem",
    "connectors": "accessaudit connectors --format json",
    "audit": "accessaudit audit --config audit.toml --snapshot snapshots/2026-Q4 "
    "--excel report.xlsx --fail-on high",
    "rules": "accessaudit rules --wide",
    "review": "accessaudit review status campaigns/2026-Q4",
    "review create": "accessaudit review create --config audit.toml --snapshot "
    "snapshots/2026-Q4 --by manager --scope privileged --deadline 2026-12-15 "
    "--out campaigns/2026-Q4",
    "review collect": "accessaudit review collect campaigns/2026-Q4",
    "review status": "accessaudit review status campaigns/2026-Q4 --verify snapshots/2027-Q1",
    "review remediate": "accessaudit review remediate campaigns/2026-Q4 --out plans/2026-Q4",
    "diff": "accessaudit diff snapshots/2026-Q3 snapshots/2026-Q4 --excel changes.xlsx",
    "discover": "accessaudit discover --config audit.toml --inventory found-inventory.csv",
    "scope": "accessaudit scope --config audit.toml --snapshot snapshots/2026-Q4 --account jdoe",
    "evidence": "accessaudit evidence --person jdoe@corp.example.com --snapshot snapshots/2026-Q3 "
    "--snapshot snapshots/2026-Q4 --out evidence/jdoe",
}


class _CommandModule(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="accessaudit",
        description="Access reviews and data-inventory audits: who can reach what, "
        "who should not, and what is never used.",
        epilog="example:\n  accessaudit demo   # the whole job on the built-in sample "
        "organisation\n  accessaudit COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"accessaudit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail on stderr (-vv: debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = cast(_CommandModule, importlib.import_module(name))
        module.register(subparsers)
    _add_examples(subparsers, "")
    return parser


def _add_examples(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], prefix: str
) -> None:
    """Put each command's example from :data:`EXAMPLES` at the end of its help."""
    for name, command in subparsers.choices.items():
        key = f"{prefix}{name}"
        example = EXAMPLES.get(key)
        if example and "example" not in (command.epilog or ""):
            command.epilog = f"{command.epilog or ''}\n\nexample:\n  {example}".strip("\n")
            command.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_examples(action, f"{key} ")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # Bare `accessaudit`: the help, not an error.
        parser.print_help()
        return EXIT_OK
    with _command_logging(args.verbose):
        try:
            return int(args.handler(args))
        except AccessAuditError as error:
            print(f"accessaudit: error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except BrokenPipeError:
            # `accessaudit diff A B | head`: the reader left; that is not an error of ours.
            sys.stderr.close()
            return EXIT_OK
        except KeyboardInterrupt:
            print("accessaudit: interrupted; nothing was written", file=sys.stderr)
            return 130


def run() -> int:
    """The ``accessaudit`` program: :func:`main` in a process of its own, which first asks
    the C allocator to keep the memory it frees (see :mod:`accessaudit.cli._memory`), a
    process-wide setting that :func:`main` itself, called in-process by tests and tools,
    never makes."""
    from accessaudit.cli._memory import keep_freed_memory

    keep_freed_memory()
    return main()


@contextmanager
def _command_logging(verbosity: int) -> Iterator[None]:
    """The command line (an application) sends the library's log to stderr while a command
    runs, and puts things back afterwards: ``main()`` is also called in-process by tests and
    by tools that embed us, and must not leave handlers behind."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("accessaudit")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
