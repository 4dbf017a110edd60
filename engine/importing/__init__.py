"""Reading a policy's task-decomposition table from an upload into a preview (pure: no database,
no Flask, no clock, no network). ``read_policy_file`` is the door; docs/import.md has the rules.
"""

from engine.importing.api import read_policy_file
from engine.importing.directory import StaticDirectory, UnitDirectory, directory_from_policy
from engine.importing.model import (
    ERROR,
    WARNING,
    ImportedTask,
    ImportOptions,
    ImportResult,
    PolicyMeta,
    Problem,
    UnitRef,
)

__all__ = ["ERROR", "WARNING", "ImportOptions", "ImportResult", "ImportedTask", "PolicyMeta",
           "Problem", "StaticDirectory", "UnitDirectory", "UnitRef", "directory_from_policy",
           "read_policy_file"]
