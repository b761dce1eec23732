"""Derive-a-variant dialog: pick a pass, fill a form generated from its Params schema."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox,
    QVBoxLayout, QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.passes.base import Pass
from workbench.core.viewmodels.pass_form import FormField, collect, display_value, pass_form_fields


class DeriveDialog(QDialog):
    """`accepted()` leaves the chosen pass id in `pass_id` and the validated params dict in `params`."""

    def __init__(self, passes: dict[str, type[Pass]], parent_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Derive a variant of {parent_label}")
        self.passes = passes
        self.pass_id: str | None = None
        self.params: dict[str, Any] = {}
        self.combo = QComboBox()
        for pid, cls in sorted(passes.items()):
            self.combo.addItem(f"{pid} - {cls.title}", pid)
        self.combo.currentIndexChanged.connect(self._pass_changed)
        self.description = QLabel(wordWrap=True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #ef5350")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.combo)
        lay.addWidget(self.description)
        lay.addWidget(self.form_host, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.fields: list[FormField] = []
        self.editors: dict[str, QWidget] = {}
        self._pass_changed()

    def current_pass(self) -> type[Pass]:
        return self.passes[self.combo.currentData()]

    def _pass_changed(self, *_: object) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        cls = self.current_pass()
        self.description.setText(cls.description or cls.title)
        self.fields = pass_form_fields(cls)
        for f in self.fields:
            editor = _editor(f)
            editor.setToolTip(f.description)
            self.editors[f.name] = editor
            self.form.addRow(f.title, editor)
        if not self.fields:
            self.form.addRow(QLabel("this pass has no parameters"))
        self.error.setText("")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            w = self.editors[f.name]
            if isinstance(w, QCheckBox):
                out[f.name] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[f.name] = w.currentData()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[f.name] = w.value()
            else:
                out[f.name] = w.text()
        return out

    def _accept(self) -> None:
        cls = self.current_pass()
        try:
            params = collect(cls, self.fields, self.values())
        except WorkbenchError as exc:
            self.error.setText(str(exc))  # stay open: the user fixes the field
            return
        self.pass_id = cls.id
        self.params = params.model_dump(mode="json")
        self.accept()


def _editor(f: FormField) -> QWidget:
    if f.kind == "bool":
        w = QCheckBox()
        w.setChecked(bool(f.default))
        return w
    if f.kind == "enum":
        w = QComboBox()
        for c in f.choices:
            w.addItem(str(c), c)
        if f.default in f.choices:
            w.setCurrentIndex(f.choices.index(f.default))
        return w
    if f.kind == "int" and not f.nullable:
        w = QSpinBox(minimum=int(f.minimum) if f.minimum is not None else -1_000_000,
                     maximum=int(f.maximum) if f.maximum is not None else 1_000_000)
        w.setValue(int(f.default or 0))
        return w
    if f.kind == "float" and not f.nullable:
        w = QDoubleSpinBox(decimals=4, singleStep=0.05,
                           minimum=float(f.minimum) if f.minimum is not None else -1e9,
                           maximum=float(f.maximum) if f.maximum is not None else 1e9)
        w.setValue(float(f.default or 0.0))
        return w
    w = QLineEdit(display_value(f, f.default))
    hint = {"list": "comma-separated", "json": "JSON", "int": "integer", "float": "number"}.get(f.kind, "")
    w.setPlaceholderText(("blank = none; " if f.nullable else "") + hint)
    return w
