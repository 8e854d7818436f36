"""The docks' shared label: a word-wrapped line of status or advice that is never drawn cut."""

from __future__ import annotations

from qtpy.QtWidgets import QLabel


class WholeLabel(QLabel):
    """A word-wrapped line that is never shown cut: it keeps as its least height what its whole text needs at its
    width. Qt's layouts give a wrapped label no more than its one-width guess when a dock is crowded (three docks
    stacked), and its status was drawn cut through the middle of its words."""

    def __init__(self, text: str = "", hidden_when_empty: bool = False) -> None:
        super().__init__(text)
        # An empty label still takes its row and the layout's spacing around it: a blank band under the buttons.
        self._hidden_when_empty = hidden_when_empty
        self.setWordWrap(True)
        self._fit()
        if hidden_when_empty and not text:
            # A widget not yet shown reads as hidden, so _show_if_said left it be, and showing its panel showed it
            # empty: hidden explicitly it stays so (hide() opens no window, as setVisible(True) would).
            self.hide()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._fit()
        self._show_if_said()

    def _show_if_said(self) -> None:
        if self._hidden_when_empty and self.isHidden() == bool(self.text()):
            self.setVisible(bool(self.text()))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        needed = self._text_height()
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)

    def _text_height(self) -> int:
        """The height the text needs at the label's width, whatever least height the label keeps now."""
        if not self.text():
            return 0
        kept = self.minimumHeight()
        # QLabel's heightForWidth answers at least the minimum height: measured with it in place, a height kept
        # for a narrower width or a longer text never shrank, and the text stood centred in a blank band.
        self.setMinimumHeight(0)
        try:
            return max(self.heightForWidth(self.width()), 0)
        finally:
            self.setMinimumHeight(kept)
