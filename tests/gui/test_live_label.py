"""`LiveLabel`: a value that changes every frame repaints its label, never the layouts above
it (a QLabel's setText re-laid out and repainted the whole window each frame)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.widgets.elided_label import LiveLabel

pytestmark = pytest.mark.gui


class LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


@pytest.mark.parametrize("cls", [QLabel, LiveLabel])
def test_a_live_value_never_asks_its_parents_to_lay_out_again(qtbot: Any, cls: type) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    label = cls("0 tokens")
    QVBoxLayout(parent).addWidget(label)
    parent.resize(200, 60)
    parent.show()
    qtbot.waitExposed(parent)
    QCoreApplication.processEvents()
    requests = LayoutRequests()
    parent.installEventFilter(requests)
    for n in range(1, 200, 7):
        label.setText(f"{n * 1_000_000:,} tokens · {n * 3.7:.1f} tok/s")
        QCoreApplication.processEvents()
    assert label.text() == f"{197 * 1_000_000:,} tokens · {197 * 3.7:.1f} tok/s"
    if cls is LiveLabel:
        assert requests.count == 0
        assert label.toolTip() == label.text()  # too wide for 200 px: elided, whole on hover
    else:  # what LiveLabel avoids: the case this test would catch if it regressed
        assert requests.count > 0
