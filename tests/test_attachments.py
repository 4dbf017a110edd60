import hashlib
import io
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select

from engine import attachments
from engine.attachments import open_attachment, safe_filename, store_upload
from engine.errors import NotFoundError, StateError, ValidationError
from engine.models import Attachment, Unit, UnitKind

MB = 1024 * 1024


@pytest.fixture
def session(db):
    with db() as s:
        s.add(Unit(id="jxt", kind=UnitKind.DEPARTMENT))
        s.commit()
        yield s


@pytest.fixture
def blob_dir(tmp_path) -> Path:
    return tmp_path / "data" / "blobs"


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _pdf() -> bytes:
    out = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    writer.write(out)
    return out.getvalue()


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _zip(entries: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in entries.items():
            zf.writestr(name, body)
    return out.getvalue()


_CT = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/' \
      'content-types"/>'


def _docx() -> bytes:
    return _zip({"[Content_Types].xml": _CT, "_rels/.rels": "<Relationships/>",
                 "word/document.xml": "<w:document><w:body>进展情况</w:body></w:document>"})


def _pptx() -> bytes:
    return _zip({"[Content_Types].xml": _CT, "ppt/presentation.xml": "<p:presentation/>"})


def _xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["指标", "完成数"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _ole(stream: str) -> bytes:
    """An OLE2 compound-file header and a directory sector naming ``stream``."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff"
    header = header.ljust(512, b"\x00")

    def entry(name: str) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + len(raw).to_bytes(2, "little")).ljust(128, b"\x00")

    return header + (entry("Root Entry") + entry(stream)).ljust(512, b"\x00")


TEXT = "单位,指标,完成数\n省经济和信息化厅,新增专精特新企业,120\n".encode()

ALLOWED = [
    ("进展报告.pdf", _pdf, "application/pdf", "application/pdf"),
    ("现场照片.png", lambda: _image("PNG"), "image/png", "image/png"),
    ("现场照片.JPG", lambda: _image("JPEG"), "image/jpeg", "image/jpeg"),
    ("情况说明.docx", _docx, None, attachments.KINDS["docx"].content_type),
    ("数据表.xlsx", _xlsx, "application/octet-stream", attachments.KINDS["xlsx"].content_type),
    ("汇报.pptx", _pptx, None, attachments.KINDS["pptx"].content_type),
    ("旧文档.doc", lambda: _ole("WordDocument"), "application/msword", "application/msword"),
    ("旧表格.xls", lambda: _ole("Workbook"), None, "application/vnd.ms-excel"),
    ("电子公文.ofd", lambda: _zip({"OFD.xml": "<ofd:OFD/>"}), None, "application/ofd"),
    ("说明.txt", lambda: "第一季度已完成。\n".encode(), "text/plain", "text/plain"),
    ("带BOM.txt", lambda: "\ufeff进展".encode(), None, "text/plain"),
    ("台账.csv", lambda: TEXT, "text/csv", "text/csv"),
]


@pytest.mark.parametrize(("name", "make", "declared", "content_type"), ALLOWED)
def test_each_allowed_type_is_stored(session, clock, blob_dir, name, make, declared,
                                     content_type):
    data = make()
    att = store_upload(session, clock, blob_dir, filename=name, data=data,
                       declared_type=declared, unit_id="jxt", max_bytes=MB)
    session.commit()
    digest = hashlib.sha256(data).hexdigest()
    assert (att.sha256, att.size, att.content_type, att.unit_id) == (
        digest, len(data), content_type, "jxt")
    assert att.filename == name.replace(".JPG", ".jpg")
    assert att.created_at == clock.now()
    assert _files(blob_dir) == [blob_dir / digest[:2] / digest[2:4] / digest]
    assert open_attachment(blob_dir, att) == data


def _elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 57


def _exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54 + b"This program cannot be run"


REJECTED = [
    ("报告.pdf", _elf, "Linux 可执行程序"),
    ("报告.pdf", _exe, "Windows 可执行程序"),
    ("报告.pdf", lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>", "网页"),
    ("报告.pdf", lambda: _zip({"a.txt": "hi"}), "ZIP 压缩包"),
    ("报告.pdf", lambda: "其实是文本".encode(), "文本文件"),
    ("报告.docx", _pdf, "PDF 文档"),
    ("数据.xlsx", _docx, "Word 文档"),
    ("照片.png", lambda: _image("JPEG"), "JPEG 图片"),
    ("动图.gif", lambda: _image("GIF"), ".gif 不允许"),
    ("照片.png", lambda: _image("GIF"), "GIF 图片"),
    ("工具.exe", _exe, ".exe 不允许"),
    ("宏.xlsx", lambda: _zip({"[Content_Types].xml": _CT, "xl/workbook.xml": "<w/>",
                             "xl/vbaProject.bin": "x"}), "宏"),
    ("加密.doc", lambda: _ole("EncryptedPackage"), "密码"),
    ("台账.csv", lambda: "单位,完成数\n省经信厅,1\n".encode("gbk"), "UTF-8"),
    ("说明.txt", lambda: b"abc\x00def", "二进制"),
    ("说明.txt", lambda: b"#!/bin/sh\nrm -rf /\n", "脚本"),
    ("图.svg.txt", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>', "网页"),
    ("压缩.zip", lambda: _zip({"a.txt": "hi"}), ".zip 不允许"),
]


@pytest.mark.parametrize(("name", "make", "expect"), REJECTED)
def test_disguised_or_disallowed_files_are_rejected_and_nothing_is_written(
        session, clock, blob_dir, name, make, expect):
    with pytest.raises(ValidationError) as err:
        store_upload(session, clock, blob_dir, filename=name, data=make(),
                     declared_type=None, unit_id="jxt", max_bytes=MB)
    message = str(err.value)
    assert expect in message and f"“{name}”" in message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert _files(blob_dir) == []


def test_empty_and_oversized_files_are_rejected(session, clock, blob_dir):
    with pytest.raises(ValidationError, match="空文件"):
        store_upload(session, clock, blob_dir, filename="空.txt", data=b"",
                     declared_type=None, unit_id="jxt", max_bytes=MB)
    big = b"%PDF-1.7\n" + b"0" * (2 * MB)
    with pytest.raises(ValidationError, match=r"“大.pdf”大小为 2.01 MB，超过上限 2 MB"):
        store_upload(session, clock, blob_dir, filename="大.pdf", data=big,
                     declared_type=None, unit_id="jxt", max_bytes=2 * MB)
    with pytest.raises(ValidationError, match="上限 0.5 MB"):
        store_upload(session, clock, blob_dir, filename="中.pdf", data=big[: MB],
                     declared_type=None, unit_id="jxt", max_bytes=MB // 2)
    exact = store_upload(session, clock, blob_dir, filename="刚好.pdf", data=big[: 2 * MB],
                         declared_type=None, unit_id="jxt", max_bytes=2 * MB)
    assert exact.size == 2 * MB
    assert len(_files(blob_dir)) == 1


def test_a_dangerous_declared_type_is_rejected(session, clock, blob_dir):
    with pytest.raises(ValidationError, match="text/html"):
        store_upload(session, clock, blob_dir, filename="a.pdf", data=_pdf(),
                     declared_type="text/html; charset=utf-8", unit_id="jxt", max_bytes=MB)
    assert _files(blob_dir) == []


def test_unknown_unit_writes_nothing(session, clock, blob_dir):
    with pytest.raises(NotFoundError, match="nosuch"):
        store_upload(session, clock, blob_dir, filename="a.pdf", data=_pdf(),
                     declared_type=None, unit_id="nosuch", max_bytes=MB)
    assert _files(blob_dir) == []


def test_same_content_is_stored_once(session, clock, blob_dir):
    data = _pdf()
    first = store_upload(session, clock, blob_dir, filename="一.pdf", data=data,
                         declared_type=None, unit_id="jxt", max_bytes=MB)
    path = _files(blob_dir)[0]
    inode = path.stat().st_ino
    clock.advance(timedelta(hours=1))
    second = store_upload(session, clock, blob_dir, filename="二.pdf", data=data,
                          declared_type=None, unit_id="jxt", max_bytes=MB)
    session.commit()
    assert first.id != second.id and first.sha256 == second.sha256
    assert second.created_at - first.created_at == timedelta(hours=1)
    assert _files(blob_dir) == [path] and path.stat().st_ino == inode
    other = store_upload(session, clock, blob_dir, filename="三.txt", data=b"other",
                         declared_type=None, unit_id="jxt", max_bytes=MB)
    assert len(_files(blob_dir)) == 2 and other.sha256 != first.sha256


def test_a_damaged_blob_is_detected_and_repaired_by_the_next_upload(session, clock, blob_dir):
    data = TEXT
    att = store_upload(session, clock, blob_dir, filename="台账.csv", data=data,
                       declared_type=None, unit_id="jxt", max_bytes=MB)
    path = _files(blob_dir)[0]
    path.write_bytes(data[:-3] + b"999")
    with pytest.raises(StateError, match="损坏"):
        open_attachment(blob_dir, att)
    store_upload(session, clock, blob_dir, filename="台账.csv", data=data,
                 declared_type=None, unit_id="jxt", max_bytes=MB)
    assert open_attachment(blob_dir, att) == data
    path.unlink()
    with pytest.raises(NotFoundError, match="丢失"):
        open_attachment(blob_dir, att)


def test_a_failed_write_leaves_no_temporary_file(session, clock, blob_dir, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(attachments.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store_upload(session, clock, blob_dir, filename="a.pdf", data=_pdf(),
                     declared_type=None, unit_id="jxt", max_bytes=MB)
    assert _files(blob_dir) == []


def test_stored_file_is_not_world_writable_and_no_temp_remains(session, clock, blob_dir):
    store_upload(session, clock, blob_dir, filename="a.pdf", data=_pdf(),
                 declared_type=None, unit_id="jxt", max_bytes=MB)
    (path,) = _files(blob_dir)
    assert not path.name.startswith(".") and (path.stat().st_mode & 0o022) == 0


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\System32\\进展报告.pdf", "进展报告.pdf"),
    ("C:\\Users\\张三\\Desktop\\2018年第一季度.docx", "2018年第一季度.docx"),
    ("evil\x00.pdf", "evil.pdf"),
    ("report.pdf\x00.exe", "report.pdf.exe"),
    ("a\u202egpj.exe", "agpj.exe"),
    ("line\nbreak\r\t.txt", "linebreak.txt"),
    ('a<b>c:d"e|f?g*.txt', "a_b_c_d_e_f_g_.txt"),
    ("  .hidden.txt. ", "hidden.txt"),
    ("..", "附件"),
    ("CON.txt", "_CON.txt"),
    ("报告.PDF", "报告.pdf"),
    ("专精特新　中小企业.pdf", "专精特新 中小企业.pdf"),
])
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_long_names_are_cut_but_keep_their_extension():
    name = safe_filename("关于推进专精特新中小企业发展" * 30 + ".docx")
    assert name.endswith(".docx") and name.startswith("关于推进")
    assert len(name) <= attachments.MAX_NAME_CHARS
    assert len(name.encode()) <= attachments.MAX_NAME_BYTES


def test_path_traversal_names_stay_inside_the_blob_dir(session, clock, tmp_path, blob_dir):
    att = store_upload(session, clock, blob_dir, filename="../../etc/passwd",
                       data=b"root:x:0:0\n", declared_type=None, unit_id="jxt", max_bytes=MB)
    assert att.filename == "passwd.txt" and att.content_type == "text/plain"
    (stored,) = _files(tmp_path / "data")
    assert stored.parents[2] == blob_dir and stored.name == att.sha256
    assert not any("passwd" in p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ValidationError, match=r"“report.pdf.exe”"):
        store_upload(session, clock, blob_dir, filename="report.pdf\x00.exe", data=_pdf(),
                     declared_type=None, unit_id="jxt", max_bytes=MB)
    nul = store_upload(session, clock, blob_dir, filename="evil\x00.pdf", data=_pdf(),
                       declared_type=None, unit_id="jxt", max_bytes=MB)
    assert nul.filename == "evil.pdf"


def test_a_name_without_extension_gets_the_detected_one(session, clock, blob_dir):
    att = store_upload(session, clock, blob_dir, filename="扫描件", data=_image("PNG"),
                       declared_type=None, unit_id="jxt", max_bytes=MB)
    assert att.filename == "扫描件.png" and att.content_type == "image/png"


def test_open_refuses_a_forged_hash(blob_dir):
    att = Attachment(sha256="../../../etc/passwd", filename="x", size=1)
    with pytest.raises(NotFoundError):
        open_attachment(blob_dir, att)
    assert not os.path.exists(blob_dir)
