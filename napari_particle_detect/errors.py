"""The one exception type the command line turns into a single clear message."""


class ParticleDetectError(Exception):
    """A problem with the user's input (file, image, model) that we can explain in one line."""


def listed(names: list[str], most: int = 4) -> str:
    """``names`` as a message lists them: the first ``most``, then how many in all."""
    return ", ".join(names[:most]) + (f", ... ({len(names)} in all)" if len(names) > most else "")
