"""The one exception type the command line turns into a single clear message."""


class ParticleDetectError(Exception):
    """A problem with the user's input (file, image, model) that we can explain in one line."""
