"""Issue 9 item 26: ``duban --help`` imports neither the database layer nor the process engine
nor the PDF renderer (it took 1.5 s of CPU), and lists the lazily imported groups with the help
lines they have once imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "SpiffWorkflow", "weasyprint", "flask", "apscheduler", "openpyxl",
         "notifications", "web", "simulator")

SCRIPT = """
import json, sys
from click.testing import CliRunner
from cli.main import main
lazy = CliRunner().invoke(main, ["--help"]).output
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
main.load_all()
loaded = CliRunner().invoke(main, ["--help"]).output
print(json.dumps({"lazy": lazy, "heavy": heavy, "loaded": loaded}))
"""


def _run() -> dict[str, object]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, *HEAVY], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_help_imports_nothing_heavy_and_lists_every_command_as_loaded() -> None:
    found = _run()
    assert found["heavy"] == []
    assert found["lazy"] == found["loaded"]
    for name in ("policy", "work", "units", "assess", "tick", "serve"):
        assert f"\n  {name} " in str(found["lazy"])


def test_a_lazy_group_runs_its_commands() -> None:
    from click.testing import CliRunner

    from cli.main import main

    out = CliRunner().invoke(main, ["policy", "--help"]).output
    assert "show" in out and "import" in out and "export-bpmn" in out
