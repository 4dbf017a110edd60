"""``python -m cli …`` is ``duban …`` (``duban serve`` starts its scheduler this way)."""

from cli.main import main

main(prog_name="duban")
