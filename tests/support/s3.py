"""A real local S3 for tests: ``moto_server`` on 127.0.0.1, in its own process group.

:func:`start` runs ``moto_server -H 127.0.0.1 -p <free port>`` (in its own session, so
:meth:`MotoServer.stop` ends it and anything it spawned with one ``os.killpg``), waits until it
answers, and creates a bucket. :attr:`MotoServer.env` holds the variables with which pandas, s3fs
and ``UPath("s3://…")`` reach it without options. A missing ``moto_server`` raises
:class:`~tests.support.servers.ServiceMissing`: :func:`serving`, what the test modules' fixtures
use, skips on it, or fails under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import ServiceMissing, free_port, stop_group

BUCKET = "dataops-test"
READY_SECONDS = 20.0


def moto_program() -> str:
    """``moto_server`` beside this interpreter, else on ``PATH``."""
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.is_file() else shutil.which("moto_server")
    if found is None:
        raise ServiceMissing("moto_server not found (pip install 'moto[server]')")
    return found


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int
    bucket: str
    log: Any
    """The server's stderr (a file: a pipe nobody reads would fill and stall the server)."""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What boto3, s3fs and UPath need to reach this server and no other."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def url(self, *parts: str) -> str:
        return "/".join((f"s3://{self.bucket}", *parts))

    def stop(self) -> None:
        stop_group(self.process.pid, self.process, timeout=10)
        self.log.close()


def start(bucket: str = BUCKET) -> MotoServer:
    """Start a moto server, wait until it answers, create ``bucket`` (``env`` is not applied)."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the server runs; stop() closes it
    process = subprocess.Popen(
        [moto_program(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    server = MotoServer(process, port, bucket, log)
    try:
        _wait_ready(server)
        _create_bucket(server)
    except BaseException:
        server.stop()
        raise
    return server


def missing(reason: str) -> None:
    """Skip, or fail under CI (as the live tests do)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def serving() -> Iterator[MotoServer]:
    """A moto server whose :attr:`~MotoServer.env` is set in ``os.environ`` while it runs.

    s3fs keeps one filesystem per set of options for the whole process, with the endpoint it
    read from the environment when it was made: that cache is emptied when a server starts and
    when it stops, so no test reaches a server that is gone.
    """
    try:
        server = start()
    except ServiceMissing as exc:
        missing(str(exc))
    from s3fs import S3FileSystem

    S3FileSystem.clear_instance_cache()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.env.items():
                patch.setenv(name, value)
            yield server
    finally:
        S3FileSystem.clear_instance_cache()
        server.stop()


def _wait_ready(server: MotoServer) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            server.log.seek(0)
            errors = server.log.read().decode(errors="replace")
            raise RuntimeError(f"moto_server exited with {server.process.returncode}: {errors[-2000:]}")
        try:
            urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=1).close()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"moto_server on {server.endpoint} did not answer within {READY_SECONDS:.0f} s")


def _create_bucket(server: MotoServer) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=server.bucket)
