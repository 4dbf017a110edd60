"""Reading the policy YAML with line numbers, and typed field access that fails with PolicyError.

A helper of ``engine.policy``: ``read_yaml`` returns mappings that remember the line of every
key, and ``Section`` wraps one mapping so each accessor names file, line, place and field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from engine.errors import PolicyError


class YamlMap(dict[Any, Any]):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader with line-aware mappings, duplicate-key and bad-date errors."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YamlMap:
    """Build a YamlMap, refusing duplicate keys."""
    loader.flatten_mapping(node)
    result = YamlMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | date):
            raise ConstructorError(None, None, "键须为文字或数字", key_node.start_mark)
        if key in result:
            raise ConstructorError(None, None, f"重复的键“{key}”", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A YAML date; an impossible one (2018-02-30) becomes an error with its line."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise ConstructorError(None, None, f"日期无效“{node.value}”", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: Path) -> tuple[YamlMap, str]:
    """The file's top-level mapping and the sha256 of its bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"无法读取政策文件：{exc.strerror or exc}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"文件不是 UTF-8 编码（第 {exc.start} 字节）", file=path.name) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"YAML 格式错误：{problem}", file=path.name,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(data, YamlMap):
        raise PolicyError("文件内容须为映射（键: 值）", file=path.name)
    return data, hashlib.sha256(raw).hexdigest()


class Section:
    """One mapping of the policy file with typed accessors whose errors name the field."""

    def __init__(self, raw: Any, file: str, prefix: str, labels: Mapping[str, str],
                 line: int | None = None) -> None:
        self.file = file
        self.prefix = prefix
        self.labels = labels
        if not isinstance(raw, dict):
            raise PolicyError("此处须为映射（键: 值）", file=file, where=prefix or None, line=line)
        self.raw: dict[Any, Any] = raw
        self.line = getattr(raw, "line", None) or line

    def error(self, message: str, key: str | None = None) -> PolicyError:
        """A PolicyError at this section's field ``key`` (or the section itself)."""
        where = [p for p in (self.prefix, self.labels.get(key, key) if key else None) if p]
        lines = getattr(self.raw, "lines", {})
        line = lines.get(key, self.line) if key else self.line
        return PolicyError(message, file=self.file, where=": ".join(where) or None, line=line)

    def check_keys(self) -> None:
        """Refuse fields this section does not know (a typo would otherwise be ignored)."""
        for key in self.raw:
            if key not in self.labels:
                line = getattr(self.raw, "lines", {}).get(key, self.line)
                raise PolicyError(f"未知字段“{key}”（可用：{'、'.join(self.labels)}）",
                                  file=self.file, where=self.prefix or None, line=line)

    def value(self, key: str, required: bool = True) -> Any:
        """The raw value; a missing required field is an error."""
        if key not in self.raw or self.raw[key] is None:
            if required:
                raise self.error("缺少字段", key)
            return None
        return self.raw[key]

    def text(self, key: str, *, max_len: int | None = None, empty: bool = False) -> str:
        """A required text field, stripped."""
        value = self.value(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(f"须为文字，而不是 {type(value).__name__}", key)
        text = str(value).strip()
        if not text and not empty:
            raise self.error("不能为空", key)
        if max_len is not None and len(text) > max_len:
            raise self.error(f"超过 {max_len} 个字符", key)
        return text

    def opt_text(self, key: str) -> str | None:
        """An optional text field."""
        return None if self.value(key, required=False) is None else self.text(key)

    def integer(self, key: str, *, minimum: int | None = None) -> int:
        """A required whole number, at least ``minimum``."""
        return self._int(self.value(key), key, minimum)

    def _int(self, value: Any, key: str, minimum: int | None) -> int:
        """Check one whole number."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"须为整数，而不是“{value}”", key)
        if minimum is not None and value < minimum:
            raise self.error(f"须不小于 {minimum}，而不是 {value}", key)
        return value

    def day(self, key: str) -> date:
        """A required date (YYYY-MM-DD)."""
        value = self.value(key)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise self.error(f"日期无效“{value}”（应为 YYYY-MM-DD）", key) from None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.error(f"日期无效“{value}”（应为 YYYY-MM-DD）", key)
        return value

    def opt_day(self, key: str) -> date | None:
        """An optional date."""
        return None if self.value(key, required=False) is None else self.day(key)

    def slug(self, key: str, pattern: re.Pattern[str]) -> str:
        """An identifier matching ``pattern``."""
        text = self.text(key)
        if not pattern.fullmatch(text):
            raise self.error(f"标识“{text}”格式无效（应匹配 {pattern.pattern}）", key)
        return text

    def unit_id(self, key: str, units: Mapping[str, Any], default: str | None = None) -> str:
        """A unit id that exists in ``units``."""
        if default is not None and self.value(key, required=False) is None:
            return default
        uid = self.text(key)
        if uid not in units:
            raise self.error(f"未知单位编号“{uid}”", key)
        return uid

    def _list(self, key: str, required: bool) -> list[Any]:
        """A list field (missing and optional: empty)."""
        value = self.value(key, required=required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error("须为列表", key)
        return value

    def int_list(self, key: str, required: bool = True) -> tuple[int, ...]:
        """A list of whole numbers."""
        return tuple(self._int(v, key, None) for v in self._list(key, required))

    def text_list(self, key: str, required: bool = True) -> tuple[str, ...]:
        """A list of non-empty texts."""
        items = self._list(key, required)
        if any(isinstance(v, bool) or not isinstance(v, str | int) or not str(v).strip()
               for v in items):
            raise self.error("须为非空文字的列表", key)
        return tuple(str(v).strip() for v in items)

    def section_list(self, key: str, label: str, labels: Mapping[str, str],
                     required: bool = True) -> list[Section]:
        """A list of mappings, each a Section named ``<prefix>: <label><n>``."""
        items = self._list(key, required)
        line = getattr(self.raw, "lines", {}).get(key, self.line)
        return [Section(item, self.file, self._join(f"{label}{n}"), labels, line)
                for n, item in enumerate(items, start=1)]

    def section_map(self, key: str, label: str, labels: Mapping[str, str]) -> dict[str, Section]:
        """A mapping of ids to mappings, each a Section named ``<label><id>``."""
        raw = self.plain_map(key)
        line = getattr(raw, "lines", {})
        return {str(k): Section(v, self.file, self._join(f"{label}{k}"), labels, line.get(k))
                for k, v in raw.items()}

    def plain_map(self, key: str, required: bool = True) -> dict[Any, Any]:
        """A mapping field (missing and optional: empty)."""
        value = self.value(key, required=required)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error("须为映射（键: 值）", key)
        return value

    def _join(self, part: str) -> str:
        """``part`` under this section's prefix."""
        return f"{self.prefix}: {part}" if self.prefix else part
