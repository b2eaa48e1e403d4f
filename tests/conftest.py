"""Shared fixtures: a real store on every back end, config files written to a temp folder."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("RELAY_TEST_PG_URL", "")


def _backends() -> list[str]:
    if PG_URL:
        return ["sqlite", "postgres"]
    if os.environ.get("CI"):
        # CI must prove both back ends; a missing server is a failure, not a quiet skip.
        return ["sqlite", "postgres-missing"]
    return ["sqlite"]


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'relay.db'}"
        return
    if request.param == "postgres-missing":
        pytest.fail("CI=true but RELAY_TEST_PG_URL is not set: .ci/run must start PostgreSQL")
    name = f"relay_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write config.yaml (and any other files) into tmp_path; returns the config path."""

    def write(config: str, **files: str) -> Path:
        for name, content in files.items():
            path = tmp_path / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        path = tmp_path / "config.yaml"
        path.write_text(config, encoding="utf-8")
        return path

    return write
