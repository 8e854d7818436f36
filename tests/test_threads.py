"""torch's threads for a round: what the CPU's load leaves free; and a job's own count never outlives it."""

import pytest
import torch

from napari_particle_detect.detection import threads
from napari_particle_detect.detection.threads import keeps_torch_threads, round_threads, threads_for


@pytest.mark.parametrize("physical, logical, busy, expected", [
    (2, 2, 0.0, 2), (2, 2, 0.4, 2), (2, 2, 0.6, 1), (2, 2, 1.0, 1), (2, 2, 3.0, 1),
    (4, 8, 1.0, 4), (4, 8, 4.6, 3), (4, 4, 1.0, 3), (8, 8, -0.5, 8),
])
def test_threads_are_the_physical_cores_less_what_other_programs_keep_busy(physical, logical, busy, expected):
    assert threads_for(physical, logical, busy) == expected


def test_a_round_samples_the_load_and_leaves_out_its_own_process(monkeypatch):
    import psutil

    class Own:
        use = 0.0

        def cpu_percent(self, interval=None):
            return self.use

    own = Own()
    monkeypatch.setattr(psutil, "Process", lambda: own)
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval: 50.0)  # one of two cores busy
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 2)
    assert round_threads() == 1  # another program holds that core
    own.use = 100.0
    assert round_threads() == 2  # this process held it (the interface), which the round replaces
    assert round_threads(3) == 3  # asked for: as asked


def test_a_job_that_sets_its_threads_hands_the_callers_count_back_even_when_it_fails():
    before = torch.get_num_threads()

    @keeps_torch_threads
    def job(fail: bool) -> int:
        torch.set_num_threads(before + 2)
        if fail:
            raise RuntimeError("stopped")
        return torch.get_num_threads()

    assert job(False) == before + 2 and torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        job(True)
    assert torch.get_num_threads() == before
    assert threads.LOAD_SAMPLE_S <= 0.5  # a round does not wait long to choose
