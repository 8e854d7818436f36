"""A number box that shows a value rounded to its decimals but hands back the exact value it was filled with."""

from __future__ import annotations

from qtpy.QtWidgets import QDoubleSpinBox


class ExactSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox filled by the program with :meth:`show_exact` keeps that exact value (an estimate of
    8.423 px, shown as 8.4) for :meth:`exact_value` until the user changes the box: the rounded value moved
    every centre a reopened project detected, and was saved over the exact one."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._exact: float | None = None
        self._filling = False
        self.valueChanged.connect(lambda *_: self._edited())
        # Typing the value the box already shows changes nothing it reports, yet is the user's value.
        self.lineEdit().textEdited.connect(lambda *_: self._edited())

    def show_exact(self, value: float) -> None:
        """Fill the box with ``value``; :meth:`exact_value` gives it unrounded until the user edits the box."""
        self._filling = True
        try:
            self.setValue(value)
        finally:
            self._filling = False
        self._exact = float(value)

    def holds_exact(self) -> bool:
        """Whether the box still holds what :meth:`show_exact` put in it (the user has not changed it)."""
        return self._exact is not None

    def exact_value(self) -> float:
        """The value shown, or the exact one it rounds while the user has not changed the box."""
        return self._exact if self._exact is not None else self.value()

    def _edited(self) -> None:
        if not self._filling:
            self._exact = None
