"""Projects: what a person reviewed and corrected, saved as they go (frames, regions, rounds),
and where review should look next."""
