"""Synthetic images with exact truth: spheres, rods and ellipsoids, bead chains, moving particles, confocal volumes."""
