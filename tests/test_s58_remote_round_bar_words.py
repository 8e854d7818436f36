"""A round's progress bar on the command line (bars.RoundBar, rounds.round_phase_label) named its phases with the
code's words ("preparing", "scoring (parent)", "criterion", "done"), and said "scoring (parent)" through the first
training steps, after the parent's scoring had ended (its first training event comes five steps in). The bar speaks
the dock's words, and says "training" from the parent's last scored tile on."""

from __future__ import annotations

from napari_particle_detect.cli.bars import RoundBar

from test_s55_cli2_round_bar_rate import STEPS, round_events


def descriptions() -> list[tuple[dict, str]]:
    """Each event and what the bar says after it."""
    said = []
    with RoundBar(True, STEPS) as bar:
        for event in round_events():
            bar.event(event)
            said.append((event, bar._bar.desc.removesuffix(": ")))  # tqdm adds the colon
    return said


def test_the_round_bar_speaks_words_not_phase_names():
    labels = [label for _, label in descriptions()]
    raw = {"preparing", "scoring (parent)", "scoring (new model)", "criterion", "done"}
    assert not raw & set(labels), labels
    assert "scoring the --from model" in labels and "scoring the new round" in labels, labels
    assert "learning which candidates you keep and which you delete" in labels, labels
    assert labels[-1].startswith("finished"), labels


def test_the_bar_says_training_once_the_parent_is_scored():
    said = descriptions()
    scored = next(i for i, (event, _) in enumerate(said)
                  if event["phase"] == "scoring" and event["model"] == "parent" and event["done"] == event["total"])
    assert said[scored][1] == "training", said[scored]
