"""Models dock: open ONNX (button, drag-drop, recent), the variant tree. Store work runs on workers."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from workbench.app.workers import TaskFailure, TaskRunner
from workbench.core.errors import WorkbenchError
from workbench.core.viewmodels.models import ModelsViewModel, VariantNode


class ModelsPanel(QWidget):
    sig_model_selected = Signal(object)
    """The model to benchmark changed. Argument: `Path`."""

    sig_error = Signal(object)
    """Opening a model or reading variants failed. Argument: `TaskFailure`."""

    sig_derive_requested = Signal(str)
    """Derive… pressed on a stored variant. Argument: the parent variant id."""

    sig_recent_changed = Signal(list)
    """The recent-files list changed (saved to QSettings). Argument: list of path strings."""

    def __init__(self, vm: ModelsViewModel, tasks: TaskRunner, variant_store_factory=None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm, self.tasks = vm, tasks
        self._variant_store_factory = variant_store_factory
        self.setAcceptDrops(True)
        self.open_button = QPushButton("Open ONNX…")
        self.open_button.clicked.connect(self.open_dialog)
        self.derive_button = QPushButton("Derive…")
        self.derive_button.setToolTip("Apply an optimization pass to the selected model/variant")
        self.derive_button.setEnabled(False)
        self.derive_button.clicked.connect(self._derive_clicked)
        self.recent = QComboBox()
        self.recent.setPlaceholderText("recent models")
        self.recent.activated.connect(lambda i: self.open_path(self.recent.itemData(i)))
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["model / variant", "detail"])
        self.tree.setColumnWidth(0, 200)
        self.tree.currentItemChanged.connect(self._current_changed)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.recent, 1)
        top.addWidget(self.derive_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        self._fill_recent()

    # -- opening -------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.vm.recent[0]).parent) if self.vm.recent else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open ONNX model", start, "ONNX models (*.onnx);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> None:
        try:
            p = self.vm.open(path)
        except WorkbenchError as exc:
            self.sig_error.emit(TaskFailure(exc))
            return
        self._fill_recent()
        self.sig_recent_changed.emit(list(self.vm.recent))
        self.sig_model_selected.emit(p)
        self.refresh_variants(register=p)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        try:
            p = self.vm.dropped(paths)
        except WorkbenchError as exc:
            self.sig_error.emit(TaskFailure(exc))
            return
        event.acceptProposedAction()
        self._fill_recent()
        self.sig_recent_changed.emit(list(self.vm.recent))
        self.sig_model_selected.emit(p)
        self.refresh_variants(register=p)

    def _fill_recent(self) -> None:
        self.recent.clear()
        for r in self.vm.recent:
            self.recent.addItem(Path(r).name, r)
            self.recent.setItemData(self.recent.count() - 1, r, Qt.ItemDataRole.ToolTipRole)
        self.recent.setCurrentIndex(-1)

    # -- variants ------------------------------------------------------------------------------
    def refresh_variants(self, register: Path | None = None) -> None:
        factory = self._variant_store_factory
        if factory is None:
            self.vm.set_variants([])
            self._fill_tree()
            return

        def fetch() -> list:
            store = factory()
            if register is not None:
                store.register_root(register)
            return store.all()

        def done(variants: list) -> None:
            self.vm.set_variants(variants)
            self._fill_tree()

        def failed(f: TaskFailure) -> None:  # a model we cannot register still runs as a plain file
            self.vm.set_variants([])
            self._fill_tree()
            self.sig_error.emit(f)

        self.tasks.submit(fetch, done, failed)

    def _fill_tree(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()

        def add(parent, node: VariantNode) -> QTreeWidgetItem:
            item = QTreeWidgetItem([node.label, node.detail])
            item.setData(0, Qt.ItemDataRole.UserRole, str(node.path))
            item.setData(1, Qt.ItemDataRole.UserRole, node.id)
            item.setToolTip(0, str(node.path))
            (parent.addChild(item) if parent is not None else self.tree.addTopLevelItem(item))
            for child in node.children:
                add(item, child)
            if self.vm.current is not None and str(node.path) == str(self.vm.current):
                self.tree.setCurrentItem(item)
            return item

        for node in self.vm.tree:
            add(None, node)
        self.tree.expandAll()
        self.tree.blockSignals(False)
        self.derive_button.setEnabled(self.selected_variant_id() is not None)

    def selected_variant_id(self) -> str | None:
        item = self.tree.currentItem()
        vid = item.data(1, Qt.ItemDataRole.UserRole) if item else None
        return None if vid in (None, "file") else vid

    def _derive_clicked(self) -> None:
        vid = self.selected_variant_id()
        if vid:
            self.sig_derive_requested.emit(vid)

    def _current_changed(self, item: QTreeWidgetItem | None, _prev: object = None) -> None:
        if item is None:
            return
        p = Path(item.data(0, Qt.ItemDataRole.UserRole))
        self.derive_button.setEnabled(item.data(1, Qt.ItemDataRole.UserRole) != "file")
        self.vm.select(p)
        self.sig_model_selected.emit(p)
