"""Detection: the network on images of any size and stacks (tiles, stages, CPU or GPU runtimes),
the particle size estimate and rescaling, 3D volumes, measurements of what was found."""
