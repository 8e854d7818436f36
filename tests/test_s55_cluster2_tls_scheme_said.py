"""--scheduler whose scheme and the scheduler's disagree on TLS: one line saying so and the address to give, not "not
a dask scheduler (... TypeError; its dashboard's port?)" nor "cannot reach the dask scheduler (... before comm was
established)"; and tls:// with dask's TLS settings reaches a scheduler that requires TLS (the check before the client
ignored them, refusing every tls:// address)."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dask
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed as files_distributed

distributed = pytest.importorskip("distributed")

SETTINGS = "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and .client.key"


@contextlib.contextmanager
def scheduler(**kwargs) -> Iterator[str]:
    with files_distributed.quiet_distributed_logs(), distributed.LocalCluster(
            n_workers=0, processes=False, dashboard_address=":0", scheduler_kwargs={"dashboard": False},
            **kwargs) as cluster:
        yield cluster.scheduler_address


def refusal(address: str) -> str:
    with pytest.raises(ParticleDetectError) as raised:
        files_distributed.scheduler_client(address, timeout="5s")
    return str(raised.value)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate and its key, for a scheduler and its clients alike."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the test's certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    return cert, key


def client_settings(cert: Path, key: Path) -> dict:
    return {"distributed.comm.tls.ca-file": str(cert), "distributed.comm.tls.client.cert": str(cert),
            "distributed.comm.tls.client.key": str(key)}


def test_tls_without_settings_at_a_plain_scheduler_names_the_tcp_address():
    with scheduler(protocol="tcp") as address:
        port = address.rsplit(":", 1)[1]
        line = refusal(f"tls://127.0.0.1:{port}")
    assert line == (f"tls://127.0.0.1:{port}: tls:// needs this client's TLS certificates, and dask's configuration "
                    f"names none ({SETTINGS}); a scheduler without TLS: give tcp://127.0.0.1:{port}")


def test_tls_with_settings_at_a_plain_scheduler_names_the_tcp_address(certificate):
    with scheduler(protocol="tcp") as address, dask.config.set(client_settings(*certificate)):
        port = address.rsplit(":", 1)[1]
        line = refusal(f"tls://127.0.0.1:{port}")
    assert line.startswith(f"tls://127.0.0.1:{port}: no dask scheduler answers there over TLS; a scheduler without "
                           f"TLS (its log names it as 'Scheduler at: tcp://...'): give tcp://127.0.0.1:{port}; "), line


def test_tcp_at_a_tls_scheduler_names_the_tls_address_and_tls_with_settings_reaches_it(certificate):
    cert, key = certificate
    security = distributed.security.Security(tls_ca_file=str(cert), tls_scheduler_cert=str(cert),
                                             tls_scheduler_key=str(key), tls_client_cert=str(cert),
                                             tls_client_key=str(key), require_encryption=True)
    with scheduler(protocol="tls", security=security) as address:
        port = address.rsplit(":", 1)[1]
        line = refusal(f"tcp://127.0.0.1:{port}")
        with dask.config.set(client_settings(cert, key)):
            client = files_distributed.scheduler_client(address, timeout="5s")
            try:
                assert client.scheduler_info()["type"] == "Scheduler"
            finally:
                client.close()
    assert line.startswith(f"tcp://127.0.0.1:{port}: the connection was closed before dask's handshake: a scheduler "
                           f"that requires TLS (its log names it as 'Scheduler at: tls://...')? give "
                           f"tls://127.0.0.1:{port}, "), line
