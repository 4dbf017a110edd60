"""The engine's error hierarchy: every error a user can cause ends in ``Error``."""

from __future__ import annotations

import re


class DubanError(Exception):
    """Base of every error Duban raises on purpose; its message is safe to show a user."""


class LoadError(DubanError):
    """A policy, unit or BPMN file is malformed; the message names the file and the place."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None,
                 line: int | None = None) -> None:
        self.file = file
        self.where = where
        self.line = line
        parts = [p for p in (file, f"line {line}" if line else None, where) if p]
        super().__init__(f"{': '.join(parts)}: {message}" if parts else message)


class PolicyError(LoadError):
    """The policy file is malformed (unknown unit, bad number, missing field)."""


class DeadlinePhraseError(PolicyError):
    """A deadline phrase could not be understood."""


class BpmnError(LoadError):
    """A BPMN file is malformed, invalid against the schema, or unsafe."""


class ScriptSecurityError(DubanError):
    """A BPMN expression tried something the restricted script engine forbids."""


class ValidationError(DubanError):
    """Input to an action is invalid (a number out of range, an oversized upload, a bad date)."""


class PermissionDeniedError(DubanError):
    """The acting user may not do this (wrong role, wrong unit)."""


class NotFoundError(DubanError):
    """The object does not exist (or the user may not know that it does)."""


class StateError(DubanError):
    """The object is not in a state that allows the action (a closed item, a decided request)."""


class TransitionError(StateError):
    """A status or escalation change the lifecycle's table does not allow (engine.lifecycle)."""


class ConflictError(DubanError):
    """Someone else changed the object first (stale version); reload and try again."""


class ConfigError(DubanError):
    """A setting (an environment variable) is invalid: the message names it and what is wrong."""

    def __init__(self, setting: str, value: str, problem: str) -> None:
        self.setting = setting
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value)  # never print a password
        super().__init__(f"配置 {setting}={shown!r} 无效：{problem}")


class ClockError(DubanError):
    """The simulated clock was asked to move backwards or is not configured."""
