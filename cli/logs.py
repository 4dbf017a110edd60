"""Logging, configured once when a command starts: ``DUBAN_LOG_LEVEL`` and ``DUBAN_LOG_FORMAT``.

Lines go to stderr (stdout is the commands' output). ``text``: time, level, logger, message.
``json``: one object per line with ``ts``, ``level``, ``logger``, ``msg`` and every field the
code passed in ``extra`` (the tick's ``step``, ``count``, ``duration_ms``, delivery counts).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from engine.config import Config

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_MARK = "_duban_handler"


class StderrHandler(logging.StreamHandler[Any]):
    """Writes to the current ``sys.stderr`` (a test runner may swap it between commands)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        data.update({k: v for k, v in vars(record).items()
                     if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(config: Config, *, quiet_steps: bool = False) -> None:
    """Root logging from the configuration (idempotent); ``quiet_steps`` keeps the per-step
    lines of a long replay out of the terminal unless DUBAN_LOG_LEVEL asks for them."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    setattr(handler, _MARK, True)
    handler.setFormatter(JsonFormatter() if config.log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(config.log_level)
    chatty = logging.DEBUG if config.log_level == "DEBUG" else logging.WARNING
    # a line per job run, per PDF step, per Alembic plugin (seven before any command's own),
    # per SpiffWorkflow task state change (hundreds on a day that starts processes)
    for name in ("apscheduler", "weasyprint", "fontTools", "alembic", "spiff"):
        logging.getLogger(name).setLevel(chatty)
    explicit = "DUBAN_LOG_LEVEL" in config.env
    logging.getLogger("duban.tick").setLevel(
        logging.WARNING if quiet_steps and not explicit else logging.NOTSET)
