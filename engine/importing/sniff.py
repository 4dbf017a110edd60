"""What an upload is: its kind from the extension, checked against its bytes; text decoding.

A file whose content is not what its name says (a renamed workbook, a PDF that is no PDF,
binary data in a .txt) is refused with one error, before any reader sees it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from engine.importing.model import ImportOptions, Problems
from engine.importing.normalize import has_control

KINDS = {".txt": "text", ".md": "text", ".markdown": "text", ".text": "text", ".csv": "csv",
         ".xlsx": "xlsx", ".xlsm": "xlsx", ".docx": "docx", ".pdf": "pdf"}
OLD_FORMATS = {".xls": ".xlsx", ".et": ".xlsx", ".doc": ".docx", ".wps": ".docx"}
CONTENT_NAMES = {"zip-xlsx": "Excel 工作簿", "zip-docx": "Word 文档", "zip": "ZIP 压缩包",
                 "pdf": "PDF 文件", "ole": "旧版 Office 文件（.doc/.xls）", "text": "文本"}
FILE = "文件"  # the place of a problem with the whole file
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNZIP_FACTOR = 20  # a zip may inflate to this many times the upload limit (zip bombs)


def kind_of(filename: str) -> str | None:
    """The reader for this file name's extension, or None."""
    return KINDS.get(PurePath(filename).suffix.lower())


def content_of(data: bytes) -> str:
    """What the bytes look like: zip-xlsx, zip-docx, zip, pdf, ole or text."""
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return "zip"
        if "xl/workbook.xml" in names:
            return "zip-xlsx"
        return "zip-docx" if "word/document.xml" in names else "zip"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return "ole" if data[:8] == _OLE else "text"


def check_upload(filename: str, data: bytes, options: ImportOptions,
                 problems: Problems) -> str | None:
    """The source kind when the upload may be read; else None with one error recorded."""
    suffix = PurePath(filename).suffix.lower()
    kind = kind_of(filename)
    if kind is None:
        hint = f"，请另存为 {OLD_FORMATS[suffix]} 后再导入" if suffix in OLD_FORMATS else ""
        problems.error(FILE, f"不支持的文件类型“{suffix or filename}”{hint}"
                             "（可导入 .txt、.md、.csv、.xlsx、.docx、.pdf）", filename)
        return None
    if not data:
        problems.error(FILE, "文件为空", filename)
        return None
    if len(data) > options.max_bytes:
        problems.error(FILE, f"文件大小 {_size(len(data))} 超过上限 {_size(options.max_bytes)}",
                       filename)
        return None
    content = content_of(data)
    wanted = {"xlsx": "zip-xlsx", "docx": "zip-docx", "pdf": "pdf"}.get(kind, "text")
    if content != wanted:
        problems.error(FILE, _disguise(filename, suffix, content), filename)
        return None
    if content.startswith("zip") and _inflated_size(data) > _UNZIP_FACTOR * options.max_bytes:
        problems.error(FILE, "压缩文件解压后过大，拒绝读取", filename)
        return None
    return kind


def _disguise(filename: str, suffix: str, content: str) -> str:
    """The message for a file whose bytes are not what its extension says."""
    if content == "text" and suffix in (".xlsx", ".xlsm", ".docx"):
        return f"文件“{filename}”不是有效的 {suffix} 文件（不是 Office Open XML 压缩包）"
    if content == "zip" and suffix in (".xlsx", ".xlsm", ".docx"):
        return f"文件“{filename}”不是有效的 {suffix} 文件（压缩包已损坏或不是 Office 文档）"
    if content == "text" and suffix == ".pdf":
        return f"文件“{filename}”不是有效的 PDF 文件（开头不是 %PDF）"
    return f"文件扩展名为 {suffix}，但内容是{CONTENT_NAMES[content]}"


def _inflated_size(data: bytes) -> int:
    """The sum of the zip members' uncompressed sizes."""
    try:
        return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return 0


def _size(n: int) -> str:
    """A byte count for people: KB below a megabyte, else MB with one decimal."""
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def decode_text(data: bytes, problems: Problems, filename: str) -> str | None:
    """The text of a .txt/.md/.csv upload: UTF-8 (with or without BOM), UTF-16 with BOM, or
    GB18030; None with an error when it is none of these or holds binary data."""
    text: str | None = None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _try(data, "utf-16")
    else:
        text = _try(data, "utf-8-sig") or _try(data, "gb18030")
    if text is None:
        problems.error(FILE, "无法识别文件的文字编码（支持 UTF-8、GB18030）", filename)
        return None
    if has_control(text):
        problems.error(FILE, "文件含有二进制数据，不是文本文件", filename)
        return None
    return text


def _try(data: bytes, encoding: str) -> str | None:
    """The bytes decoded strictly, or None."""
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, ValueError):
        return None
