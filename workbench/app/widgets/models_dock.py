"""Models dock: open ONNX (button, drag-drop, recent), the variant tree. Store work runs on workers."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
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

    sig_derive_cancel = Signal()
    """Cancel pressed while a variant is being derived."""

    sig_variants_shown = Signal(int)
    """The variant tree was refilled. Argument: number of variants listed."""

    def __init__(self, vm: ModelsViewModel, tasks: TaskRunner, variant_store_factory=None, run_store=None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm, self.tasks = vm, tasks
        self._variant_store_factory = variant_store_factory
        self._run_store = run_store  # for each variant's newest latency per device
        self.deriving = False
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
        # newest latency before the detail: in a narrow dock it is the column worth seeing
        self.tree.setHeaderLabels(["model / variant", "last p50/p90", "detail"])
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 120)
        self.derive_label = QLabel("")
        self.derive_label.setWordWrap(True)
        self.derive_bar = QProgressBar()
        self.derive_bar.setMaximumHeight(14)
        self.derive_bar.setTextVisible(False)
        self.derive_cancel = QPushButton("Cancel")
        self.derive_cancel.setToolTip("Stop the pass at its next check; nothing is stored")
        self.derive_cancel.clicked.connect(self._cancel_clicked)
        progress = QHBoxLayout()
        progress.addWidget(self.derive_bar, 1)
        progress.addWidget(self.derive_cancel)
        self.tree.currentItemChanged.connect(self._current_changed)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.recent, 1)
        top.addWidget(self.derive_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.derive_label)
        lay.addLayout(progress)
        self._show_progress(False)
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

        run_store = self._run_store

        def fetch() -> tuple[list, dict]:
            store = factory()
            if register is not None:
                store.register_root(register)
            variants = store.all()
            if run_store is None:
                return variants, {}
            from workbench.core.passes.measured import last_latencies

            return variants, last_latencies(run_store, variants)

        def done(data: tuple[list, dict]) -> None:
            self.vm.set_variants(*data)
            self._fill_tree()
            self.sig_variants_shown.emit(len(data[0]))

        def failed(f: TaskFailure) -> None:  # a model we cannot register still runs as a plain file
            self.vm.set_variants([])
            self._fill_tree()
            self.sig_error.emit(f)

        self.tasks.submit(fetch, done, failed)

    def _fill_tree(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()

        def add(parent, node: VariantNode) -> QTreeWidgetItem:
            item = QTreeWidgetItem([node.label, node.latency, node.detail])
            item.setToolTip(1, node.latency or "not run yet")
            item.setToolTip(2, node.detail)
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
        self.derive_button.setEnabled(not self.deriving and self.selected_variant_id() is not None)

    def selected_variant_id(self) -> str | None:
        item = self.tree.currentItem()
        vid = item.data(1, Qt.ItemDataRole.UserRole) if item else None
        return None if vid in (None, "file") else vid

    # -- derive progress ------------------------------------------------------------------------
    def _show_progress(self, on: bool) -> None:
        self.deriving = on
        self.derive_bar.setVisible(on)
        self.derive_cancel.setVisible(on)
        self.derive_cancel.setEnabled(on)
        self.derive_button.setEnabled(not on and self.selected_variant_id() is not None)

    def derive_started(self, text: str) -> None:
        self.derive_label.setText(text)
        self.derive_bar.setRange(0, 0)  # busy until a pass reports a total
        self._show_progress(True)

    def derive_progress(self, done: float, total: float | None, message: str) -> None:
        if total:
            self.derive_bar.setRange(0, 1000)
            self.derive_bar.setValue(int(1000 * min(done / total, 1.0)))
        else:
            self.derive_bar.setRange(0, 0)
        if message:
            self.derive_label.setText(message)

    def derive_finished(self, text: str) -> None:
        self._show_progress(False)
        self.derive_label.setText(text)

    def _cancel_clicked(self) -> None:
        self.derive_cancel.setEnabled(False)
        self.derive_label.setText("cancelling…")
        self.sig_derive_cancel.emit()

    def _derive_clicked(self) -> None:
        vid = self.selected_variant_id()
        if vid:
            self.sig_derive_requested.emit(vid)

    def _current_changed(self, item: QTreeWidgetItem | None, _prev: object = None) -> None:
        if item is None:
            return
        p = Path(item.data(0, Qt.ItemDataRole.UserRole))
        self.derive_button.setEnabled(not self.deriving and item.data(1, Qt.ItemDataRole.UserRole) != "file")
        self.vm.select(p)
        self.sig_model_selected.emit(p)
