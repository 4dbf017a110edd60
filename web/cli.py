"""The ``duban`` command line: a thin layer over the engine's service functions."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """督办 Duban: supervise a policy's task-decomposition table."""
