"""Learning: training on the generator, fine-tuning rounds on what a person corrected (and on
pseudo-labelled frames), recipes that outlive a session, remote workers."""
