"""The low-confidence size reason reads right for no blob and for one (it said "only 0 ... blob(s)")."""

import numpy as np

from napari_particle_detect.detection.sizing import estimate_size


def test_flat_noise_says_no_blob_stands_out():
    noise = 2000 + 20 * np.random.default_rng(3).standard_normal((128, 128))
    estimate = estimate_size(noise)
    assert not estimate.confident
    assert estimate.reason == "no particle-like blobs stand out of the noise"


def test_one_and_several_blobs_agree_with_their_verb():
    from napari_particle_detect.detection.sizing import too_few_blobs

    assert too_few_blobs(1, 1, 12.0) == "only 1 particle-like blob of about 12.0 px stands out of the noise"
    assert too_few_blobs(2, 5, 12.0) == ("only 2 particle-like blobs of about 12.0 px stand out of the noise "
                                        "(5 of any size)")
    assert too_few_blobs(0, 3, 4.0) == "no particle-like blobs of about 4.0 px stand out of the noise (3 of any size)"
    assert "(its core; its rim 20.0 px)" in too_few_blobs(1, 1, 12.0, rim=20.0)
