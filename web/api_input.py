"""API input: JSON bodies parsed within limits and checked against the OpenAPI schemas.

A body that is not JSON, too large, nested too deep, or not of its documented shape gets a 400
with a Chinese message naming the field; nothing reaches the engine unchecked (``{"text":
{"a": 1}}`` or ``true`` for a number are refused, not stored).
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, request
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError as SchemaError

from engine.errors import ValidationError
from web.api_doc import SCHEMAS

MAX_JSON_BYTES = 256 * 1024
_TYPES = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "true 或 false",
          "object": "对象", "array": "数组"}


def _validator(name: str) -> Draft7Validator:
    return Draft7Validator(SCHEMAS[name])


VALIDATORS = {name: _validator(name) for name in ("Submission", "Decision")}


def body(schema: str) -> dict[str, Any]:
    """The request's JSON body, checked against the named schema of the OpenAPI document."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        abort(413)
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        abort(413)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValidationError("请求体不是有效的 JSON（UTF-8）") from None
    error = next(iter(sorted(VALIDATORS[schema].iter_errors(data), key=_depth)), None)
    if error is not None:
        raise ValidationError(describe(error))
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"不支持的 JSON 常量 {name}")


def _depth(error: SchemaError) -> int:
    return len(error.absolute_path)


def describe(error: SchemaError) -> str:
    """A schema violation in Chinese, naming the field."""
    where = "请求体" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}"
                              for p in error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        return f"{where} 应为{'或'.join(_TYPES.get(str(t), str(t)) for t in wanted)}"
    if kind == "required":
        missing = [f for f in value if isinstance(error.instance, dict) and f not in error.instance]
        return f"{where} 缺少字段 {'、'.join(missing)}"
    if kind == "additionalProperties":
        return f"{where} 含有不支持的字段"
    if kind == "maxLength":
        return f"{where} 超过 {value} 个字符"
    if kind in ("maxItems", "maxProperties"):
        return f"{where} 项数超过 {value}"
    if kind in ("minimum", "maximum"):
        return f"{where} 超出允许范围"
    return f"{where} 格式不正确"
