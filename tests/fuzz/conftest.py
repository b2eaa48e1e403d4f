"""One fuzz relay per store back end for the whole module: building one costs more than a hundred
requests, and every test leaves the store as empty as it found it."""
from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, _backends
from tests.fuzz.world import SECRETS, FuzzRelay, build


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module", params=_backends())
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'relay.db'}"
        return
    if request.param == "postgres-missing":
        pytest.fail("CI=true but RELAY_TEST_PG_URL is not set: .ci/run must start PostgreSQL")
    name = f"relay_fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def relay(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzRelay]:
    """The fuzz relay; afterwards, no secret may appear in anything it logged."""
    logs = _Collect()
    logs.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(logs)
    folder: Path = tmp_path_factory.mktemp("fuzz-config")
    built = build(module_db_url, folder)
    root.setLevel(logging.INFO)
    try:
        yield built
    finally:
        built.close()
        root.removeHandler(logs)
    text_logged = "\n".join(logs.lines)
    assert "rejected a request" in text_logged, "the relay's refusals were not captured; the secret check would prove nothing"
    shown = [s for s in SECRETS if s in text_logged]
    assert not shown, f"secrets in the logs: {shown}"
