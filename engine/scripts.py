"""The restricted script engine for expressions in BPMN files.

SpiffWorkflow's default engine is plain ``eval``/``exec`` with full builtins, so a BPMN file could
run ``__import__("os")``. Every expression is parsed and its AST checked first: no imports, no
names or attributes starting with an underscore, none of the introspection builtins or frame
attributes that reach real globals; only a small set of safe builtins is offered. The engine is
set again after every load (a deserialized workflow gets SpiffWorkflow's default one).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.task import Task

from engine.errors import ScriptSecurityError

FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "open", "compile", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "dir", "input", "breakpoint", "help", "memoryview", "type", "object", "super",
    "classmethod", "staticmethod", "property", "exit", "quit", "hasattr",
})
# Frame and code attributes reach real globals without a leading underscore.
FORBIDDEN_ATTRIBUTES = frozenset({
    "format", "format_map", "mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code",
    "cr_await", "ag_frame", "ag_code", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
    "tb_frame", "tb_next", "co_code",
})
SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name) for name in (
        "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "frozenset",
        "int", "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round",
        "set", "sorted", "str", "sum", "tuple", "zip", "ValueError", "KeyError", "TypeError",
    )
}


@functools.lru_cache(maxsize=1024)
def check_script(text: str) -> None:
    """Raise ScriptSecurityError if ``text`` uses anything outside the safe subset."""
    tree = ast.parse(text, mode="exec")
    for node in ast.walk(tree):
        problem = _unsafe(node)
        if problem:
            raise ScriptSecurityError(f"BPMN 表达式不安全（{problem}）：{text!r}")


def _unsafe(node: ast.AST) -> str | None:
    """What is forbidden about one AST node, or None."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return "禁止 import"
    if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
        return f"禁止使用名称 {node.id}"
    if isinstance(node, ast.Attribute) and (
            node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES):
        return f"禁止访问属性 {node.attr}"
    if isinstance(node, ast.Global | ast.Nonlocal):
        return "禁止 global/nonlocal"
    return None


class SafeScriptEngine(PythonScriptEngine):
    """A script engine that checks every expression's AST and offers only safe builtins."""

    def __init__(self) -> None:
        super().__init__(environment=TaskDataEnvironment({"__builtins__": SAFE_BUILTINS}))

    def validate(self, expression: str) -> None:
        """Check an expression (syntax and safety)."""
        check_script(expression)

    def evaluate(self, task: Task, expression: str, external_context: Any = None) -> Any:
        """Evaluate after the safety check; unsafe text raises ScriptSecurityError."""
        _check_runtime(expression)
        return super().evaluate(task, expression, external_context)

    def execute(self, task: Task, script: str, external_context: Any = None) -> Any:
        """Execute after the safety check; unsafe text raises ScriptSecurityError."""
        _check_runtime(script)
        return super().execute(task, script, external_context)


def _check_runtime(text: str) -> None:
    """The safety check; syntax errors are left to SpiffWorkflow's own error path."""
    with contextlib.suppress(SyntaxError):
        check_script(text)
