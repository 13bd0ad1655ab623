"""All configuration, from ``ZSTICKET_*`` environment variables or a ``.env``-style file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One settings object, built once by the CLI and passed down; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="ZSTICKET_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("./zsticket-data"), description="Where the SQLite file and secrets live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir if unset")
    host: str = "0.0.0.0"
    port: int = 8080

    admin_password: str | None = Field(default=None, description="Plain admin password; generated if unset")
    session_timeout: int = 7200
    session_renew_granularity: int = Field(
        default=60, description="Renew a session's expiry only once it has moved by this many seconds"
    )
    max_sessions_per_user: int = 500
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    password_hash_cost: int = Field(default=14, description="log2 of scrypt's N")

    job_result_ttl: int = 10800
    api_timeout_ms: int = 1800000
    max_body_bytes: int = 1048576
    webhook_retries: int = 15
    webhook_interval: float = 2.0

    admin_can_act_on_any_step: bool = False
    allow_self_approval: bool = False
    privileged_approver_attributes: list[str] = ["__SystemAdmin__"]
    approver_titles: list[str] = [
        "SystemAdmin",
        "ProjectAdmin",
        "ProjectOperator",
        "OrganizationSupervisor",
        "PlatformAdmin",
    ]
    seed_system_default_collection: bool = True

    zstack_url: str | None = Field(
        default=None, description="Management node, e.g. http://zstack.example.com:8080/zstack; unset: calls wait"
    )
    zstack_account: str = "admin"
    zstack_password: str | None = None
    zstack_project_accounts: dict[str, dict[str, str]] = Field(
        default_factory=dict, description='Per-project override: {"<projectUuid>": {"account": ..., "password": ...}}'
    )
    execution_workers: int = Field(default=4, description="Threads executing approved calls in this process")
    execution_lease_seconds: int = 60
    execution_idle_seconds: float = Field(default=1.0, description="Longest sleep of an idle worker between checks")
    upstream_job_deadline: float = 600.0

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'zsticket.db').resolve()}"
