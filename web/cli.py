"""The ``duban`` command line: a thin layer over the engine's service functions."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """督办 Duban: supervise a policy's task-decomposition table."""


def _register() -> None:
    """Attach the command groups that live in their own modules."""
    from web.cli_policy import policy

    main.add_command(policy)


_register()
