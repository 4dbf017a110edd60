"""Click's own help words in Chinese: usage line, headings, [必填], placeholders, the help option.

Click writes "Usage:", "Options:" and "Show this message and exit." through gettext without a
catalogue we could install, so ``duban``'s help is formatted by ``ZhFormatter``. A command's
help uses its context's formatter; ``ZhGroup`` gives its own context class to every command
added to it (plain ``click.command``s included, and their subcommands), so a module that makes
its commands with plain click still gets Chinese help once it is added to ``duban``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import click

HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数"}
# words click adds to an option's help
EXTRAS = (("Show this message and exit.", "显示本帮助并退出"), ("[required]", "[必填]"),
          ("required", "必填"), ("default: ", "默认："), ("env var: ", "环境变量："))
USAGE = (("[OPTIONS]", "[选项]"), ("COMMAND [ARGS]...", "命令 [参数]..."),
         ("[ARGS]...", "[参数]..."))
# click's placeholders of values and the arguments' upper-case names
PLACEHOLDERS = {"TEXT": "文字", "INTEGER": "整数", "FLOAT": "数值", "FILE": "文件",
                "DIRECTORY": "目录", "PATH": "路径", "[%Y-%m-%d]": "日期", "DATE": "日期",
                "POLICY_ID": "政策编号", "ITEM_ID": "事项编号", "REQUEST_ID": "申请编号",
                "UNIT_ID": "单位编号"}
_PLACEHOLDER = re.compile("|".join(re.escape(k) for k in sorted(PLACEHOLDERS, key=len,
                                                                 reverse=True)))


def _width(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _translate(text: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``text`` with each English phrase of ``pairs`` replaced."""
    for english, chinese in pairs:
        text = text.replace(english, chinese)
    return text


def _placeholders(text: str) -> str:
    """TEXT, FILE, POLICY_ID … in an option's or the usage line's terms, in Chinese."""
    return _PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m.group(0)], text)


class ZhFormatter(click.HelpFormatter):
    """A help formatter that writes click's fixed words in Chinese."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = _placeholders(_translate(args, USAGE))
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        """Two columns aligned by display width (a Chinese character takes two columns)."""
        rows = [(_placeholders(term), _translate(text, EXTRAS)) for term, text in rows]
        first = min(max((_width(term) for term, _ in rows), default=0), col_max)
        indent = " " * self.current_indent
        for term, text in rows:
            self.write(f"{indent}{term}")
            if _width(term) <= first:
                self.write(" " * (first - _width(term) + col_spacing))
            else:
                self.write("\n" + indent + " " * (first + col_spacing))
            self.write(text + "\n")


class ZhContext(click.Context):
    """A context whose help is formatted by ``ZhFormatter``."""

    formatter_class = ZhFormatter


def chinese_help(command: click.Command) -> click.Command:
    """``command`` (and, for a group, its subcommands) with help formatted in Chinese."""
    command.context_class = ZhContext
    for sub in getattr(command, "commands", {}).values():
        chinese_help(sub)
    return command


class ZhCommand(click.Command):
    """A command with Chinese help words."""

    context_class = ZhContext


class ZhGroup(click.Group):
    """A group with Chinese help words; so are the commands and groups added to it."""

    context_class = ZhContext
    command_class = ZhCommand
    group_class = type  # subgroups are ZhGroup as well

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(chinese_help(cmd), name)
