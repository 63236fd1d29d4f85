"""Fixtures for integration tests against real services: Redis and a Celery worker process.

Every test in this folder is marked ``broker``. Without ``REDIS_URL`` they skip, unless
``CCDG_REQUIRE_SERVICES=1`` (CI), where a missing Redis is a failure. ``make test`` runs them
in its second pass, with a throwaway PostgreSQL and Redis (see ``tests.services``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
NO_REDIS = "REDIS_URL not set: run through `make test`, which starts a throwaway Redis"
NO_POSTGRES = (
    "DATABASE_URL not set: the worker is another process and cannot see SQLite's in-memory "
    "test database; run through `make test`, whose second pass uses a throwaway PostgreSQL"
)
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.broker)


def _missing(reason: str) -> None:
    if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CCDG_REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_redis():
    if not os.environ.get("REDIS_URL"):
        _missing(NO_REDIS)


@pytest.fixture
def require_postgres():
    if not os.environ.get("DATABASE_URL"):
        _missing(NO_POSTGRES)
    if connection.vendor != "postgresql":
        pytest.fail(f"DATABASE_URL is set but the test database is {connection.vendor}")


def worker_database_url() -> str:
    """``DATABASE_URL`` of the database pytest-django created (``test_<name>``)."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    host = s["HOST"] or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(s['NAME'], safe='')}"


@pytest.fixture
def celery_app():
    """The project's Celery app with eager execution off, so tasks go through Redis."""
    from ccdg.celery_app import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def purge_queue(celery_app):
    """Start from an empty queue (Redis is shared by the whole run)."""
    celery_app.control.purge()
    yield
    celery_app.control.purge()


class Worker:
    def __init__(self, proc: subprocess.Popen, log: Path, name: str):
        self.proc, self.log, self.name = proc, log, name

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start_worker(
    transactional_db, require_postgres, celery_app, tmp_path
) -> Iterator[Callable[[], Worker]]:
    """``start_worker()`` starts ``celery worker`` as a subprocess and waits until it answers.

    The worker reads the test database (committed rows only: use ``transactional_db``) and
    the run's Redis. It is stopped (SIGTERM, then SIGKILL) when the test ends, pass or fail.
    """
    workers: list[Worker] = []

    def start() -> Worker:
        name = f"test{len(workers)}-{os.getpid()}@%h"
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CCDG_CELERY_EAGER": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", ""),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if not env["SECRET_KEY"]:
            pytest.fail("SECRET_KEY must be set to start a worker on PostgreSQL (production)")
        log = tmp_path / f"celery-worker-{len(workers)}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "ccdg", "worker",
            "--pool=solo", "--concurrency=1", "--loglevel=INFO", "-n", name,
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        worker = Worker(proc, log, name.replace("%h", os.uname().nodename))
        workers.append(worker)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the worker exited with {proc.returncode}:\n{worker.output()}")
            replies = celery_app.control.ping(destination=[worker.name], timeout=1)
            if any(worker.name in reply for reply in replies):
                return worker
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the worker did not answer within {READY_TIMEOUT}s:\n{worker.output()}"
                )
            time.sleep(0.2)

    yield start
    for worker in workers:
        worker.stop()


class GroupWorker(Worker):
    """A worker started in its own session (process group): ``kill()`` is SIGKILL to the
    parent and its pool children at once, as when a container or host dies."""

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        super().stop()
        # Pool children the parent left behind (never the case after a warm shutdown).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def start_group_worker(
    transactional_db, require_postgres, celery_app, tmp_path
) -> Iterator[Callable[..., GroupWorker]]:
    """``start_group_worker(concurrency=2)`` starts a prefork ``celery worker`` (as the
    Procfile runs it) in its own process group and waits until it answers a ping.

    The environment is read when it starts, so ``monkeypatch.setenv`` before the call sets
    the worker's settings. Every worker started is stopped when the test ends.
    """
    workers: list[GroupWorker] = []

    def start(concurrency: int = 2) -> GroupWorker:
        number = len(workers)
        name = f"group{number}-{os.getpid()}@%h"
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CCDG_CELERY_EAGER": "0",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if not env.get("SECRET_KEY"):
            pytest.fail("SECRET_KEY must be set to start a worker on PostgreSQL (production)")
        log = tmp_path / f"celery-group-worker-{number}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "ccdg", "worker",
            "--pool=prefork", f"--concurrency={concurrency}", "--loglevel=INFO", "-n", name,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        worker = GroupWorker(proc, log, name.replace("%h", os.uname().nodename))
        workers.append(worker)
        deadline = time.monotonic() + READY_TIMEOUT * 2  # a loaded machine forks slowly
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the worker exited with {proc.returncode}:\n{worker.output()}")
            replies = celery_app.control.ping(destination=[worker.name], timeout=1)
            if any(worker.name in reply for reply in replies):
                return worker
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not answer in time:\n{worker.output()}")
            time.sleep(0.2)

    yield start
    for worker in workers:
        worker.stop()
