"""What picking an image in any dock does to the layers every dock made: those made for other images are hidden
wherever they lie, as another image's centres, rods or boxes show through whatever lies over them (an additive
channel, a translucent or smaller image) and read as the picked image's, and so are the dock's other images lying
over it or showing around it; those made for the picked image that a pick hid come back. Layers the user made or hid
are left alone. No Qt widgets here."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from napari.layers import Image, Layer
from .notify import show_info

from .layers import quoted_names


class OutputsDock(Protocol):
    """A dock whose layers an image picked in any dock shows or hides."""

    viewer: object

    @property
    def closed(self) -> bool: ...

    def outputs_by_image(self) -> list[tuple[Layer, Image]]:
        """Each layer the dock made that is in its viewer, with the image it was made for."""


# Every dock opened: a dock hid only its own layers, and the Rods and chains dock's rods of one image stayed
# shown over another picked in the Particle detection dock.
_DOCKS: weakref.WeakSet = weakref.WeakSet()
# The docks' layers a pick of another image hid: shown again when their image is picked (never those the user hid).
_HIDDEN_BY_PICKS: weakref.WeakSet = weakref.WeakSet()


# The image (and its detail: a kind) each dock last worked on, by viewer and dock: reopened, the dock picks it again,
# so the layers its closing put away come back, as it says they do, not the first image's.
_LAST_WORKED_ON: dict[tuple[int, str], tuple[weakref.ref, weakref.ref, str]] = {}


def remember_worked_on(viewer, dock: str, image: Image, detail: str = "") -> None:
    """``image`` is the one ``dock`` (its title) closes on in ``viewer``: that dock opened again there picks it."""
    _LAST_WORKED_ON[id(viewer), dock] = (weakref.ref(viewer), weakref.ref(image), detail)


def last_worked_on(viewer, dock: str, images: Sequence[Image]) -> tuple[Image, str] | None:
    """The image a closed ``dock`` of ``viewer`` last worked on, where it is among ``images`` still, and its
    detail."""
    viewer_ref, image_ref, detail = _LAST_WORKED_ON.get((id(viewer), dock), (lambda: None, lambda: None, ""))
    image = image_ref() if viewer_ref() is viewer else None
    return (image, detail) if image is not None and any(image is other for other in images) else None


def register_dock(dock: OutputsDock) -> None:
    """``dock``'s layers are shown or hidden by an image picked in any dock of its viewer, until it closes."""
    _DOCKS.add(dock)


def forget_hidden(layer: Layer) -> None:
    """``layer`` is its dock's to show again, not a pick's (shown again by the user's eye)."""
    _HIDDEN_BY_PICKS.discard(layer)


def hidden_by_pick(layer: Layer) -> bool:
    """Whether ``layer`` is hidden because another image was picked in a dock (not by the user's eye)."""
    return layer in _HIDDEN_BY_PICKS


def show_picked(viewer, image: Image | None, listed: Sequence[Layer] = ()) -> list[str]:
    """``image`` was picked in a dock of ``viewer``: show it, hide those of the dock's ``listed`` images lying over it
    (one opened after it covered it while the dock spoke of it) or under it and reaching beyond it
    (:func:`_reaches_beyond`) and the layers every open dock made for other images, show again those made for
    ``image`` that an earlier pick hid, and say what was hidden. The layer order stays the user's. Returns the names
    hidden, in the layer list's order."""
    if image is None or image not in viewer.layers:
        return []
    at = viewer.layers.index(image)
    hidden = [other for other in listed if other is not image and other.visible
              and (viewer.layers.index(other) > at or _reaches_beyond(other, image))]
    for other in hidden:
        other.visible = False
    image.visible = True
    for dock in list(_DOCKS):
        if dock.viewer is not viewer or dock.closed:
            continue
        for layer, made_for in dock.outputs_by_image():
            if made_for is image and layer in _HIDDEN_BY_PICKS:
                _HIDDEN_BY_PICKS.discard(layer)
                layer.visible = True
            elif made_for is not image and layer.visible:
                _HIDDEN_BY_PICKS.add(layer)  # first: a dock hearing the layer hide says why it did
                layer.visible = False
                hidden.append(layer)
    hidden.sort(key=viewer.layers.index)
    if hidden:
        names = quoted_names([layer.name for layer in hidden])
        again = "its eye in the layer list shows it" if len(hidden) == 1 else "their eyes in the layer list show them"
        show_info(f"showing '{image.name}': hid {names} ({again} again)")
    return [layer.name for layer in hidden]


def _reaches_beyond(other: Layer, image: Image) -> bool:
    """Whether ``other`` covers ground ``image`` does not, along the last axes they share (as napari lines layers up),
    by more than half a pixel of the coarser: a larger volume opened before a smaller one showed its particles all
    around the one picked, as if they were its own and its detection had missed them. One of the same ground stays (a
    channel beside it, a translucent image under it, the same volume at another voxel size: the user's layout)."""
    axes = min(other.ndim, image.ndim)
    theirs, ours = (np.asarray(layer.extent.world, dtype=float)[:, -axes:] for layer in (other, image))
    slack = 0.5 * np.maximum(*(np.asarray(layer.extent.step, dtype=float)[-axes:] for layer in (other, image)))
    slack += 1e-6 * np.abs(ours).max(initial=1.0)  # rounding in the scales is no ground
    return bool((theirs[0] < ours[0] - slack).any() or (theirs[1] > ours[1] + slack).any())
