"""bpmnlint's recommended rules over rendered processes (node_modules/.bin/bpmnlint).

Every process of an import is the one pattern (engine.pattern) with other names, so a run lints
one rendered process per pattern structure (names blanked out) and remembers the answer for the
life of the process; the names themselves are checked by the importer (non-empty, one line).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.config import ROOT
from engine.errors import BpmnError

BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
RC = ROOT / ".bpmnlintrc"
_CLEAN: set[str] = set()
_NAMES = re.compile(r'\bname="[^"]*"')


def available() -> bool:
    """Whether node and bpmnlint are installed (``make`` installs them)."""
    return shutil.which("node") is not None and BPMNLINT.exists()


def structure_digest(xml: str, process_id: str) -> str:
    """The process's structure: its text with every name and its own id blanked."""
    blank = _NAMES.sub('name=""', xml.replace(process_id, "PROCESS"))
    return hashlib.sha256(blank.encode()).hexdigest()


def lint(xml: str, process_id: str) -> bool:
    """Lint one process; True when linted (clean), False when bpmnlint is not installed.

    Raises BpmnError quoting bpmnlint's report when a rule fails."""
    key = structure_digest(xml, process_id)
    if key in _CLEAN:
        return True
    if not available():
        return False
    with tempfile.TemporaryDirectory(prefix="duban-lint-") as tmp:
        path = Path(tmp) / "process.bpmn"
        path.write_text(xml, encoding="utf-8")
        shutil.copy(RC, Path(tmp) / ".bpmnlintrc")
        result = subprocess.run([str(BPMNLINT), str(path)], cwd=tmp, capture_output=True,
                                text=True, timeout=120, check=False)
    report = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or report:
        raise BpmnError(f"bpmnlint 检查未通过：{report[:500]}", file=process_id)
    _CLEAN.add(key)
    return True
