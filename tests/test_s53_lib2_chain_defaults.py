"""ChainConfig() from Python draws beads at the radii `synth --kind chains` draws by default (the README's 3.5-9 px,
the chains model's training range), not the spheres' 4-12 px."""

from napari_particle_detect.synthetic.chains import TRAINING_BEAD_RADIUS, ChainConfig, synthesize_chains
from napari_particle_detect.synthetic.spheres import SynthConfig


def test_chain_config_draws_the_beads_the_chains_model_learnt():
    assert TRAINING_BEAD_RADIUS == (3.5, 9.0)
    assert ChainConfig().optics.radius_range == TRAINING_BEAD_RADIUS
    # Only the radii differ from the spheres' optics.
    assert ChainConfig().optics == SynthConfig(radius_range=TRAINING_BEAD_RADIUS)


def test_synthesize_chains_default_beads_stay_in_that_range():
    radii = synthesize_chains(seed=1).radii
    assert len(radii) > 0
    assert radii.min() >= TRAINING_BEAD_RADIUS[0] and radii.max() <= TRAINING_BEAD_RADIUS[1]
