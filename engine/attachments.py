"""Evidence attachments: uploads checked by their real content, stored once by SHA-256.

A file is accepted only when its bytes are one of the allowed kinds (PDF, PNG, JPEG, Office
Open XML, Office 97-2003, OFD, UTF-8 text) and its extension names that same kind, so a renamed
executable or web page is refused with a message naming the file. Content lives under
``blob_dir/ab/cd/<sha256>``, written atomically and shared by identical uploads; each upload gets
its own ``Attachment`` row. An upload no evidence claims is deleted when it is removed from a
draft, and by the scheduler two days after its upload when no draft lists it either.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import NotFoundError, StateError, ValidationError
from engine.models import Attachment, Unit, WorkItem


@dataclass(frozen=True)
class FileKind:
    """An allowed kind of file: its Chinese label, stored content type and extensions."""

    key: str
    label: str
    content_type: str
    extensions: tuple[str, ...]


_OOXML = "application/vnd.openxmlformats-officedocument."
KINDS: dict[str, FileKind] = {k.key: k for k in (
    FileKind("pdf", "PDF 文档", "application/pdf", (".pdf",)),
    FileKind("png", "PNG 图片", "image/png", (".png",)),
    FileKind("jpeg", "JPEG 图片", "image/jpeg", (".jpg", ".jpeg")),
    FileKind("docx", "Word 文档", _OOXML + "wordprocessingml.document", (".docx",)),
    FileKind("xlsx", "Excel 表格", _OOXML + "spreadsheetml.sheet", (".xlsx",)),
    FileKind("pptx", "PowerPoint 演示文稿", _OOXML + "presentationml.presentation", (".pptx",)),
    FileKind("doc", "Word 97-2003 文档", "application/msword", (".doc",)),
    FileKind("xls", "Excel 97-2003 表格", "application/vnd.ms-excel", (".xls",)),
    FileKind("ppt", "PowerPoint 97-2003 演示文稿", "application/vnd.ms-powerpoint", (".ppt",)),
    FileKind("ofd", "OFD 版式文档", "application/ofd", (".ofd",)),
    FileKind("txt", "文本文件", "text/plain", (".txt",)),
    FileKind("csv", "CSV 表格", "text/csv", (".csv",)),
)}
EXTENSIONS: dict[str, FileKind] = {e: k for k in KINDS.values() for e in k.extensions}
ACCEPT = ",".join(EXTENSIONS)  # for an <input type="file" accept=...>
ALLOWED_TEXT = "PDF、Word、Excel、PowerPoint、PNG/JPEG 图片、TXT/CSV 文本、OFD"
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240
TEXT = "text"  # what sniffing says of UTF-8 text; the extension picks txt or csv

# Signatures of content that is never allowed, so the message can say what the file really is.
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "Linux 可执行程序（ELF）"),
    (b"\xfe\xed\xfa\xce", "macOS 可执行程序"), (b"\xfe\xed\xfa\xcf", "macOS 可执行程序"),
    (b"\xce\xfa\xed\xfe", "macOS 可执行程序"), (b"\xcf\xfa\xed\xfe", "macOS 可执行程序"),
    (b"\xca\xfe\xba\xbe", "可执行程序或 Java 类文件"),
    (b"GIF87a", "GIF 图片"), (b"GIF89a", "GIF 图片"),
    (b"Rar!\x1a\x07", "RAR 压缩包"), (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"), (b"BZh", "bzip2 压缩包"), (b"\xfd7zXZ\x00", "xz 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)
_MARKUP_STARTS = ("<!doctype", "<html", "<head", "<body", "<script", "<svg", "<?xml",
                  "<iframe", "<meta", "<object", "<embed")
_DANGEROUS_DECLARED = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript",
    "application/javascript", "application/x-msdownload", "application/x-msdos-program",
    "application/x-dosexec", "application/vnd.microsoft.portable-executable",
    "application/x-executable", "application/x-elf", "application/x-sh",
    "application/x-shellscript", "application/java-archive", "application/x-msi",
})
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)})
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


def safe_filename(name: str) -> str:
    """A display and download name: no path parts, no control or reserved characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROP_CATEGORIES)
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = name, ""
    ext = f".{ext.lower()}" if ext else ""
    stem = stem.rstrip(" .") or "附件"
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    stem = stem[:MAX_NAME_CHARS - len(ext)]
    while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + ext


def _ole_kind(data: bytes) -> tuple[str | None, str]:
    """Which Office 97-2003 file an OLE2 compound document is, by its stream names."""
    def has(stream: str) -> bool:
        return stream.encode("utf-16-le") in data

    if has("EncryptedPackage") or has("EncryptionInfo"):
        return None, "加密（设置了打开密码）的 Office 文件，请去掉密码后再上传"
    if has("_VBA_PROJECT"):
        return None, "含有宏的 Office 文件"
    for stream, key in (("WordDocument", "doc"), ("Workbook", "xls"), ("Book", "xls"),
                        ("PowerPoint Document", "ppt")):
        if has(stream):
            return key, KINDS[key].label
    return None, "无法识别的 OLE 复合文档"


def _zip_kind(data: bytes) -> tuple[str | None, str]:
    """Which Office Open XML or OFD file a ZIP container is, by its entry names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None, "损坏的 ZIP 压缩包"
    if "OFD.xml" in names:
        return "ofd", KINDS["ofd"].label
    if "[Content_Types].xml" not in names:
        return None, "ZIP 压缩包"
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return None, "含有宏的 Office 文件"
    for prefix, key in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(n.startswith(prefix) for n in names):
            return key, KINDS[key].label
    return None, "无法识别的 Office Open XML 文件"


def _text_kind(data: bytes) -> tuple[str | None, str] | None:
    """TEXT for UTF-8 text without NUL, a refusal for markup, None for anything binary."""
    if b"\x00" in data:
        return None
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            return None
        return None, "GBK 等非 UTF-8 编码的文本（请另存为 UTF-8 编码后再上传）"
    head = body[:1024].lstrip().lower()
    if head.startswith(_MARKUP_STARTS):
        return None, "网页或标记文件（HTML/SVG/XML）"
    if head.startswith("#!"):
        return None, "脚本文件"
    return TEXT, "文本文件"


def detect_kind(data: bytes) -> tuple[str | None, str]:
    """(allowed kind key or TEXT, or None; a Chinese description) from the magic bytes."""
    if data.startswith(b"%PDF-"):
        return "pdf", KINDS["pdf"].label
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "png", KINDS["png"].label
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg", KINDS["jpeg"].label
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(data)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    for magic, label in _FOREIGN_MAGIC:
        if data.startswith(magic):
            return None, label
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return None, "WebP 图片"
    text_kind = _text_kind(data)
    if text_kind is not None:
        return text_kind
    if data.startswith(b"MZ"):
        return None, "Windows 可执行程序（EXE/DLL）"
    return None, "无法识别的二进制文件"


def _mb(n: int, *, up: bool = False) -> str:
    """Bytes as MB for messages: "20", "0.5", "20.01"."""
    value = n / 2**20
    value = math.ceil(value * 100) / 100 if up else round(value, 2)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _check_size(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse an empty or oversized upload."""
    if not data:
        raise ValidationError(f"文件“{name}”是空文件（0 字节），请选择有内容的文件")
    if len(data) > max_bytes:
        raise ValidationError(f"文件“{name}”大小为 {_mb(len(data), up=True)} MB，"
                              f"超过上限 {_mb(max_bytes)} MB")


def _check_declared(name: str, declared_type: str | None) -> None:
    """Refuse what the browser itself calls a web page, script or program."""
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared in _DANGEROUS_DECLARED:
        raise ValidationError(f"文件“{name}”的类型为 {declared}，不允许上传；"
                              f"允许的类型：{ALLOWED_TEXT}")


def classify(filename: str, data: bytes) -> tuple[str, FileKind]:
    """(safe filename, kind) when content and extension agree, else ValidationError."""
    name = safe_filename(filename)
    ext = Path(name).suffix.lower()
    if ext and ext not in EXTENSIONS:
        raise ValidationError(f"文件“{name}”的类型 {ext} 不允许上传；允许的类型：{ALLOWED_TEXT}")
    key, label = detect_kind(data)
    if key is None:
        raise ValidationError(f"文件“{name}”的内容实际是{label}，不允许上传；"
                              f"允许的类型：{ALLOWED_TEXT}")
    if key == TEXT:
        key = EXTENSIONS[ext].key if ext in (".txt", ".csv") else "txt"
    kind = KINDS[key]
    if not ext:
        return safe_filename(name + kind.extensions[0]), kind
    if ext not in kind.extensions:
        raise ValidationError(f"文件“{name}”的扩展名是 {ext}，但内容实际是{kind.label}，"
                              f"与扩展名不符，已拒绝上传；请确认文件后重新上传")
    return name, kind


def blob_path(blob_dir: Path, sha256: str) -> Path:
    """Where content with this hash lives: ``blob_dir/ab/cd/<sha256>``."""
    if not _SHA256.fullmatch(sha256):
        raise NotFoundError(f"附件哈希无效：{sha256!r}")
    return blob_dir / sha256[:2] / sha256[2:4] / sha256


def _file_sha256(path: Path) -> str | None:
    """The hash of a file's content, or None when it cannot be read."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _write_blob(path: Path, data: bytes, digest: str) -> bool:
    """Store ``data`` at ``path`` atomically unless an intact copy exists; True if written."""
    if path.exists() and _file_sha256(path) == digest:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def store_upload(session: Session, clock: Clock, blob_dir: Path, *, filename: str,
                 data: bytes, declared_type: str | None, unit_id: str,
                 max_bytes: int) -> Attachment:
    """Validate an upload, store its content once and add its ``Attachment`` row (flushed)."""
    shown = safe_filename(filename)
    _check_size(shown, data, max_bytes)
    _check_declared(shown, declared_type)
    name, kind = classify(filename, data)
    if session.get(Unit, unit_id) is None:
        raise NotFoundError(f"上传文件“{name}”失败：单位 {unit_id} 不存在")
    digest = hashlib.sha256(data).hexdigest()
    att = Attachment(sha256=digest, filename=name, content_type=kind.content_type,
                     size=len(data), unit_id=unit_id, created_at=clock.now())
    session.add(att)
    session.flush()
    _write_blob(blob_path(blob_dir, digest), data, digest)
    return att


def open_attachment(blob_dir: Path, att: Attachment) -> bytes:
    """The stored content of ``att``, checked against its recorded hash and size."""
    path = blob_path(blob_dir, att.sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"附件“{att.filename}”的文件已丢失（{att.sha256}）") from None
    if len(data) != att.size or hashlib.sha256(data).hexdigest() != att.sha256:
        raise StateError(f"附件“{att.filename}”的存储内容已损坏：与登记的哈希不符")
    return data


MAX_FILES_PER_REQUEST = 10
UNCLAIMED_FOR = timedelta(days=2)


def discard_unclaimed(session: Session, blob_dir: Path, unit_id: str,
                      ids: Sequence[int]) -> int:
    """Delete the unit's uploads that no evidence claimed (removed from a draft)."""
    rows = [a for a in session.scalars(select(Attachment).where(
        Attachment.id.in_(list(ids)), Attachment.unit_id == unit_id,
        Attachment.evidence_id.is_(None), Attachment.progress_report_id.is_(None)))]
    for att in rows:
        session.delete(att)
    session.flush()
    _drop_unused_blobs(session, blob_dir, {a.sha256 for a in rows})
    return len(rows)


def prune_unclaimed(session: Session, clock: Clock, blob_dir: Path) -> int:
    """Delete uploads older than ``UNCLAIMED_FOR`` that no evidence claimed and no draft lists."""
    cutoff = clock.now() - UNCLAIMED_FOR
    drafted = {int(i) for draft in session.scalars(select(WorkItem.draft).where(
        WorkItem.draft.is_not(None))) if isinstance(draft, dict)
        for i in draft.get("attachment_ids", []) if isinstance(i, int)}
    rows = [a for a in session.scalars(select(Attachment).where(
        Attachment.evidence_id.is_(None), Attachment.progress_report_id.is_(None),
        Attachment.created_at < cutoff)) if a.id not in drafted]
    for att in rows:
        session.delete(att)
    session.flush()
    _drop_unused_blobs(session, blob_dir, {a.sha256 for a in rows})
    return len(rows)


def _drop_unused_blobs(session: Session, blob_dir: Path, digests: set[str]) -> None:
    """Remove stored files whose content no attachment row refers to any more."""
    if not digests:
        return
    still = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests))))
    for digest in digests - still:
        blob_path(blob_dir, digest).unlink(missing_ok=True)
