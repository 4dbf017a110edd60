"""Issue 9, "configuration parsed once": every ``DUBAN_*`` setting is read in engine/config.py
only, and each is in the README's table (cookie security, the secret key, the simulation
database and the trusted proxies were read but documented nowhere)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r'"(DUBAN_[A-Z_]+)"')  # the names config.py reads (and names in its errors)


def _read_settings() -> set[str]:
    source = (ROOT / "engine" / "config.py").read_text(encoding="utf-8")
    return set(READ.findall(source))


def test_every_setting_is_in_the_readme() -> None:
    names = _read_settings()
    assert {"DUBAN_COOKIE_SECURE", "DUBAN_SECRET_KEY", "DUBAN_SIMULATION_DATABASE_URL",
            "DUBAN_TRUSTED_PROXIES", "DUBAN_DATABASE_URL"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `DUBAN_"))
    assert sorted(n for n in names if f"`{n}`" not in table) == []


def test_no_other_module_reads_the_environment() -> None:
    readers = []
    for package in ("engine", "notifications", "web", "cli", "simulator"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "engine" / "config.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"os\.getenv|os\.environ(?:\.get)?\(|os\.environ\[", text):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []
