"""Unreadable or disguised uploads: one clear error each, no tasks, and never an exception."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import DATA, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.importing import ImportOptions, read_policy_file

XLSX = (DATA / "plan.xlsx").read_bytes()
DOCX = (DATA / "table.docx").read_bytes()


@pytest.mark.parametrize("name, data, message", [
    ("plan.xlsx", b"not a workbook at all",
     "文件“plan.xlsx”不是有效的 .xlsx 文件（不是 Office Open XML 压缩包）"),
    ("plan.pdf", b"<html>hello</html>", "文件“plan.pdf”不是有效的 PDF 文件（开头不是 %PDF）"),
    ("plan.docx", XLSX, "文件扩展名为 .docx，但内容是Excel 工作簿"),
    ("plan.xlsx", DOCX, "文件扩展名为 .xlsx，但内容是Word 文档"),
    ("plan.txt", b"%PDF-1.7\n...", "文件扩展名为 .txt，但内容是PDF 文件"),
    ("plan.txt", b"abc\x00\x01\x02def", "文件含有二进制数据，不是文本文件"),
    ("plan.csv", b"\xff\xfe\x00\xd8", "无法识别文件的文字编码（支持 UTF-8、GB18030）"),
    ("plan.xls", b"\xd0\xcf\x11\xe0",
     "不支持的文件类型“.xls”，请另存为 .xlsx 后再导入"
     "（可导入 .txt、.md、.csv、.xlsx、.docx、.pdf）"),
    ("plan.exe", b"MZ", "不支持的文件类型“.exe”（可导入 .txt、.md、.csv、.xlsx、.docx、.pdf）"),
    ("plan.txt", b"", "文件为空"),
    ("plan.xlsx", b"PK\x03\x04broken zip",
     "文件“plan.xlsx”不是有效的 .xlsx 文件（压缩包已损坏或不是 Office 文档）"),
])
def test_one_error_and_no_tasks(city, name, data, message):
    result = read_policy_file(name, data, city)
    assert problems(result) == [("文件", message)]
    assert result.tasks == [] and not result.ok()
    assert result.to_json(city)["problems"][0]["severity"] == "error"


def test_zip_named_xlsx_that_is_no_workbook(city):
    result = read_policy_file("a.xlsx", DOCX, city)
    assert not result.ok() and result.tasks == []


def test_file_over_max_bytes(city):
    result = read_policy_file("plan.xlsx", XLSX, city, ImportOptions(max_bytes=1000))
    assert problems(result) == [("文件", f"文件大小 {len(XLSX) / 1024:.0f} KB 超过上限 1 KB")]


def test_truncated_workbook(city):
    result = read_policy_file("plan.xlsx", XLSX[: len(XLSX) // 2], city)
    assert not result.ok() and result.tasks == [] and len(result.problems) == 1


def test_text_without_any_task(city):
    result = read_policy_file("a.txt", "只是一段话。\n2022年1月1日\n".encode(), city)
    assert [p.message[:5] for p in result.errors()] == ["未找到任务"]


NAMES = st.sampled_from(["a.txt", "a.md", "a.csv", "a.xlsx", "a.docx", "a.pdf", "a.bin", "a"])
CHUNKS = st.sampled_from([b"PK\x03\x04", b"%PDF-1.4\n",
                          "序号\t工作任务\t牵头单位\t时限要求\n".encode(),
                          "1\t任务\t市发改委\t尽快\n".encode(),
                          "（一）任务（市发改委牵头）\n".encode(),
                          "2022年3月1日\n".encode(), b"\xff\xfe", b"\x00", "各街道等、".encode()])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NAMES, st.lists(st.binary(max_size=64) | CHUNKS, max_size=8))
def test_no_bytes_make_it_raise(city, name, parts):
    result = read_policy_file(name, b"".join(parts), city,
                              ImportOptions(issued_on=date(2022, 1, 1)))
    assert isinstance(result.to_json(city), dict)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_no_text_makes_it_raise(city, text):
    result = read_policy_file("a.txt", text.encode("utf-8"), city)
    assert isinstance(result.to_json(city), dict)
