"""The OpenAPI 3 document of the JSON API (kept beside web/api.py, checked by the tests)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
          "403": _json(_ref("Error"), "无权执行"), "404": _json(_ref("Error"), "不存在"),
          "413": _json(_ref("Error"), "请求体过大（JSON 至多 256 KiB）")}
ITEM_ID = [{"name": "item_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}}]
BOARD_FILTERS = [{"name": n, "in": "query", "required": False, "schema": {"type": t},
                  "description": d} for n, t, d in (
    ("policy", "string", "政策编号"),
    ("task", "integer", "任务编号（与 policy 一起使用）"), ("unit", "string", "牵头单位 id"),
    ("cycle", "string", "周期名称，如 2018年度"),
    ("status", "string", "open / returned / submitted / closed / overdue / yellow"),
    ("page", "integer", "页码，从 1 开始；超过末页时返回末页"),
    ("per_page", "integer", "每页行数，默认 500，最多 1000"))]

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "status"],
              "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
    "WorkItem": {"type": "object", "required": ["id", "title", "status", "light"], "properties": {
        "id": {"type": "integer"}, "instance_id": {"type": "integer"},
        "title": {"type": "string"}, "unit_id": {"type": "string"},
        "role": {"type": "string", "enum": ["lead", "supporting", "supervisor"]},
        "kind": {"type": "string", "enum": ["ack", "progress", "plan", "evidence",
                                            "contribution", "review"]},
        "status": {"type": "string",
                   "enum": ["open", "returned", "submitted", "closed", "cancelled"]},
        "due_date": {"type": "string", "format": "date", "nullable": True},
        "days_left": {"type": "integer", "nullable": True},
        "light": {"type": "string", "enum": ["green", "yellow", "red", "grey"]},
        "return_reason": {"type": "string", "nullable": True}}},
    "ItemDetail": {"allOf": [_ref("WorkItem"), {"type": "object", "properties": {
        "task": {"type": "object"}, "cycle": {"type": "object"},
        "evidence": {"type": "array", "items": {"type": "object"}},
        "reviews": {"type": "array", "items": {"type": "object"}}}}]},
    "Submission": {"type": "object", "required": ["text"], "additionalProperties": False,
                   "properties": {
        "text": {"type": "string", "maxLength": 20000},
        "numbers": {"type": "object", "maxProperties": 50,
                    "additionalProperties": {"type": ["number", "null"],
                                             "minimum": 0, "maximum": 1e15}},
        "attachment_ids": {"type": "array", "maxItems": 20,
                           "items": {"type": "integer", "minimum": 1,
                                     "maximum": 9223372036854775807}}}},
    "Decision": {"type": "object", "required": ["approve"], "additionalProperties": False,
                 "properties": {
        "approve": {"type": "boolean"},
        "reason": {"type": ["string", "null"], "maxLength": 4000,
                   "description": "退回时必填"}}},
    "BoardRow": {"type": "object", "properties": {
        "instance_id": {"type": "integer"}, "policy": {"type": "string"},
        "task_number": {"type": "integer"},
        "task_title": {"type": "string"}, "unit_id": {"type": "string"},
        "unit_name": {"type": "string"}, "cycle": {"type": "string"},
        "due_date": {"type": "string", "format": "date", "nullable": True},
        "status": {"type": "string"}, "light": {"type": "string"},
        "days_overdue": {"type": "integer"}, "item_id": {"type": "integer", "nullable": True}}},
}


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "督办 Duban API", "version": "1.0.0",
                 "description": "待办、事项、报送、审核与督办总览。使用管理员签发的令牌："
                                "Authorization: Bearer <token>。请求体按本文档的模式校验："
                                "类型不符、缺少字段、多余字段、超长或非 JSON 的请求体返回 400，"
                                "error 字段说明哪个字段有误；不存在或无权查看的事项返回 404。"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/inbox": {"get": {"summary": "待办：联络员的本单位事项，或督查人员的待审核事项",
                               "parameters": [{"name": "policy", "in": "query",
                                               "required": False, "schema": {"type": "string"},
                                               "description": "只列出该政策的事项"}],
                               "responses": {"200": _json({"type": "object", "properties": {
                                   "items": {"type": "array", "items": _ref("WorkItem")}}},
                                   "事项列表"), **ERRORS}}},
            "/items/{item_id}": {"get": {"summary": "事项详情", "parameters": ITEM_ID,
                                         "responses": {"200": _json(_ref("ItemDetail"), "详情"),
                                                       **ERRORS}}},
            "/items/{item_id}/submit": {"post": {
                "summary": "报送佐证材料", "parameters": ITEM_ID,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("Submission")}}},
                "responses": {"200": _json(_ref("WorkItem"), "已报送"),
                              "400": _json(_ref("Error"), "输入有误"),
                              "409": _json(_ref("Error"), "状态不允许"), **ERRORS}}},
            "/items/{item_id}/review": {"post": {
                "summary": "审核：通过或退回", "parameters": ITEM_ID,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("Decision")}}},
                "responses": {"200": _json(_ref("WorkItem"), "已审核"),
                              "400": _json(_ref("Error"), "输入有误"),
                              "409": _json(_ref("Error"), "状态不允许"), **ERRORS}}},
            "/board": {"get": {"summary": "督办总览（督查人员、管理员）",
                               "parameters": BOARD_FILTERS,
                               "responses": {"200": _json({"type": "object", "properties": {
                                   "total": {"type": "integer"}, "page": {"type": "integer"},
                                   "pages": {"type": "integer"},
                                   "per_page": {"type": "integer"},
                                   "lights": {"type": "object", "additionalProperties": {
                                       "type": "integer"}},
                                   "rows": {"type": "array", "items": _ref("BoardRow")}}},
                                   "总览行"), **ERRORS}}},
            "/openapi.json": {"get": {"summary": "本文档", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 文档"}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Unauthorized": _json(_ref("Error"), "缺少或无效的令牌")},
            "schemas": SCHEMAS,
        },
    }
