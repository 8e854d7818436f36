"""How torch's OpenMP threads wait: set by the package's import, before torch loads, unless the user chose."""

import json
import os
import subprocess
import sys

import pytest

# The policy as the package's import leaves it, and whether torch had loaded by then (it reads the policy as it
# loads, once). Without torch itself imported: its second and more in each of these processes told nothing more.
PROBE = ("import json, os, sys, napari_particle_detect; "
         "print(json.dumps({k: os.environ.get(k) for k in ('GOMP_SPINCOUNT', 'OMP_WAIT_POLICY', 'KMP_BLOCKTIME')}), "
         "'torch' in sys.modules)")


def _policy(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "KMP_BLOCKTIME")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                         check=True)
    policy, torch_loaded = out.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert torch_loaded == "False", "torch loaded before the package set how its threads wait"
    return json.loads(policy)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libgomp's spin count is set on Linux only")
def test_threads_spin_briefly_then_sleep_by_default_on_linux():
    # ACTIVE keeps libgomp's 1000 rounds when its threads outnumber the cores (a round in a worker thread);
    # KMP_BLOCKTIME=0 keeps another OpenMP runtime from reading ACTIVE as spinning without end.
    assert _policy() == {"GOMP_SPINCOUNT": "1000", "OMP_WAIT_POLICY": "ACTIVE", "KMP_BLOCKTIME": "0"}
    assert _policy(KMP_BLOCKTIME="200")["KMP_BLOCKTIME"] == "200"


@pytest.mark.parametrize("env", [{"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "300000"}])
def test_a_users_own_setting_is_left_alone(env):
    policy = _policy(**env)
    assert {k: v for k, v in policy.items() if v is not None} == env
