"""Configuration from the environment (the contract in shared/DESIGN.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = ROOT / "workflows"
DEFAULT_POLICY = WORKFLOWS_DIR / "anhui-2018-zjtx.yaml"


@dataclass(frozen=True)
class Config:
    """Where Duban keeps its data and how it talks to the world."""

    data_dir: Path = Path("var")
    database_url: str = ""
    smtp_url: str | None = None
    clock: str = "system"
    policy_file: Path = DEFAULT_POLICY
    mail_from: str = "duban@localhost"
    upload_max_bytes: int = 20 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        """Read ``DUBAN_*`` variables; defaults give a SQLite file under ``./var``."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("DUBAN_DATA_DIR", "var"))
        url = env.get("DUBAN_DATABASE_URL") or f"sqlite:///{(data_dir / 'duban.db').resolve()}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            smtp_url=env.get("DUBAN_SMTP_URL") or None,
            clock=env.get("DUBAN_CLOCK", "system"),
            policy_file=Path(env.get("DUBAN_POLICY_FILE", str(DEFAULT_POLICY))),
            mail_from=env.get("DUBAN_MAIL_FROM", "duban@localhost"),
            upload_max_bytes=int(env.get("DUBAN_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))),
        )
