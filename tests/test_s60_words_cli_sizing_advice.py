"""detect's low-confidence line ended "give the diameter if it is known" (the library's and the dock's words): the
command line names its option."""

import logging

from napari_particle_detect.cli.main import _log_sizing
from napari_particle_detect.detection.sizing import DIAMETER_ADVICE


def test_the_low_confidence_line_names_the_option_once(caplog):
    record = {"diameter_px": 12.3, "diameter_source": "estimated", "diameter_confidence": "low",
              "diameter_reason": f"the particles crowd: the estimate may be 20 % off; {DIAMETER_ADVICE} (frame 0)"}
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        _log_sizing("s.tif", record, "5 centres in 1 frame(s); ")
        _log_sizing("n.tif", {**record, "diameter_reason": "only 2 blobs stand out of the noise (frame 0)"})
    assert caplog.messages == [
        "s.tif: 5 centres in 1 frame(s); particle diameter 12.3 px (estimated); low confidence: the particles crowd: "
        "the estimate may be 20 % off; give --diameter if it is known (frame 0)",
        "n.tif: particle diameter 12.3 px (estimated); low confidence: only 2 blobs stand out of the noise (frame 0); "
        "give --diameter"]
