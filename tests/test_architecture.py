"""The import contracts of setup.cfg hold, and they would catch an arrow the wrong way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "web", "simulator", "notifications", "engine")
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--config", str(cwd / "setup.cfg"), "--no-cache"],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def _copy(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "static"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    return tmp_path


def test_contracts_hold_on_the_tree(tmp_path):
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_engine_importing_the_web_breaks_a_contract(tmp_path):
    tree = _copy(tmp_path)
    (tree / "engine" / "wrong_way.py").write_text("import web.app  # noqa\n", encoding="utf-8")
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "engine.wrong_way" in result.stdout


def test_engine_importing_flask_breaks_a_contract(tmp_path):
    tree = _copy(tmp_path)
    (tree / "engine" / "wrong_way.py").write_text("import flask  # noqa\n", encoding="utf-8")
    result = _lint(tree)
    assert result.returncode != 0 and "never import Flask" in result.stdout
