"""`train --from MODEL DATA --minutes N` (a fine-tuning round, spheres or rods/chains) ran its steps in full and said
nothing of the limit: a round has no time limit to stop at, nor anything for --resume to continue. Refused in one
line, before anything is written."""

from __future__ import annotations

from napari_particle_detect.cli.main import main

from test_cli_refusals import refused

SAID = ("particle-detect: error: --minutes stops a training run, which --resume then continues; a fine-tuning round "
        "(--from with DATA) runs its steps in full: leave --minutes out, or give fewer --steps-per-epoch")


def test_a_round_given_minutes_is_refused_in_one_line(tmp_path, capsys):
    for kind in ("spheres", "rods"):
        data = tmp_path / kind
        assert main(["-q", "synth", str(data), "--kind", kind, "--n", "1", "--shape", "64", "64"]) == 0
        start = "unet" if kind == "spheres" else "rods"
        out = tmp_path / f"{kind}-round"
        assert refused(capsys, "train", "--kind", kind, data, "--from", start, "-o", out, "--minutes", "1") == SAID
        assert not list(tmp_path.glob(f"{kind}-round*"))


def test_train_help_says_what_minutes_keeps_and_where_it_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("--minutes MINUTES stop after this many minutes of wall time, the best model so far saved and the state "
            "--resume goes on from (not a fine-tuning round's: it runs its steps in full)") in text
    assert "--seed SEED draws the generator's images and the crops (default 0)" in text
    assert ("--device {auto,cpu,cuda,mps} auto: a CUDA GPU where there is one, else Apple's MPS, else the CPU"
            in text)
