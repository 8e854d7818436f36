"""--scheduler with a port past 65535 (a digit too many): one line naming the port at once, not a refused connection
after seconds of retries to another port (the socket takes the number modulo 65536)."""
from __future__ import annotations

import time

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed

pytest.importorskip("distributed")


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:99999", "127.0.0.1:65536", "tcp://localhost:0"])
def test_a_port_out_of_range_is_no_scheduler_address(address):
    start = time.monotonic()
    with pytest.raises(ParticleDetectError) as refusal:
        distributed.scheduler_client(address, timeout="5s")
    port = address.rsplit(":", 1)[1]
    assert str(refusal.value) == (f"{address}: not a scheduler address (port {port} is out of range 1-65535); give "
                                  "tcp://HOST:PORT")
    assert time.monotonic() - start < 1
