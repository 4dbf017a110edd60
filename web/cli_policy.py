"""``duban policy ...``: show the loaded policy (placeholder until the policy module lands)."""

from __future__ import annotations

import click


@click.group()
def policy() -> None:
    """The policy and its tasks."""
