"""Off-GUI-thread work: short tasks on a QThreadPool, and the one benchmark run on its own thread.

Anything that touches a device, the store or a pass runs here, never on the GUI thread: a slow adb
round trip or a SQLite read must not freeze the charts (bench/gui_stalls.py measures that).
Results come back through signals, which Qt delivers on the GUI thread.
"""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from workbench.core.benchmark import run_benchmark
from workbench.core.devices.base import Device
from workbench.core.events import Emit
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, BenchmarkResult


class TaskFailure:
    """An exception caught on a worker, with its formatted traceback for the error dialog's details."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.details = "".join(traceback.format_exception(exc))


class _TaskSignals(QObject):
    sig_done = Signal(object)
    """The task returned. Argument: its return value."""

    sig_failed = Signal(object)
    """The task raised. Argument: `TaskFailure`."""


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never lost on a worker
            self.signals.sig_failed.emit(TaskFailure(exc))
        else:
            self.signals.sig_done.emit(result)


class TaskRunner(QObject):
    """Runs callables on a private pool; keeps each task alive until its result was delivered."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._live: set[_Task] = set()
        self.closing = False

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_failed: Callable[[TaskFailure], None] | None = None) -> None:
        if self.closing:
            return
        task = _Task(fn)
        task.setAutoDelete(False)
        self._live.add(task)

        def done(value: Any) -> None:
            self._live.discard(task)
            if on_done is not None and not self.closing:
                on_done(value)

        def failed(failure: TaskFailure) -> None:
            self._live.discard(task)
            if on_failed is not None and not self.closing:
                on_failed(failure)

        task.signals.sig_done.connect(done)
        task.signals.sig_failed.connect(failed)
        self.pool.start(task)

    @property
    def pending(self) -> int:
        return len(self._live)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop delivering results and wait for running tasks; True if all finished in time."""
        self.closing = True
        self.pool.clear()
        return self.pool.waitForDone(timeout_ms)


class ProgressRelay(QObject):
    """A progress callback for core (`PassContext.progress`) that is safe to call on a worker thread."""

    sig_progress = Signal(float, object, str)
    """Progress from a worker. Arguments: done, total (None when unknown), message."""

    def __call__(self, done: float, total: float | None, message: str) -> None:
        self.sig_progress.emit(float(done), total, message)


class RunController(QObject):
    """Owns the benchmark thread: start, cancel (Stop button / window close), and join."""

    sig_busy_changed = Signal(bool)
    """A run started (True) or its thread ended (False)."""

    sig_crashed = Signal(object)
    """run_benchmark itself raised (a bug, not a failed run: those end with RunFinished). Argument: `TaskFailure`."""

    sig_result = Signal(object)
    """The run thread returned. Argument: `BenchmarkResult`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, device: Device, job: BenchmarkJob, store: RunStore, emit: Emit) -> bool:
        if self.busy:
            return False
        self._cancel = threading.Event()
        cancel = self._cancel

        def body() -> None:
            try:
                result: BenchmarkResult = run_benchmark(device, job, store, emit, cancel)
            except BaseException as exc:  # noqa: BLE001
                self.sig_crashed.emit(TaskFailure(exc))
            else:
                self.sig_result.emit(result)
            finally:
                self.sig_busy_changed.emit(False)

        self._thread = threading.Thread(target=body, name="workbench-run", daemon=True)
        self.sig_busy_changed.emit(True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._cancel.set()

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Cancel and wait for the run thread (window closing); True if it ended in time."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True


class StudyController(QObject):
    """Owns the tuning thread: one study at a time, cancel from the Tuner tab or on window close.

    `start(body)` runs `body(cancel, on_trial, emit)` on a thread; `on_trial(...)` and `emit(event)` may be
    called from that thread and arrive on the GUI thread as `sig_trial` / `sig_event`.
    """

    sig_busy_changed = Signal(bool)
    """A study started (True) or its thread ended (False)."""

    sig_trial = Signal(object)
    """A trial finished. Argument: whatever the body passed to `on_trial` (a TrialRow)."""

    sig_event = Signal(object)
    """A core Progress/Log event of the study. Argument: the event."""

    sig_done = Signal(object)
    """The body returned. Argument: its return value."""

    sig_failed = Signal(object)
    """The body raised. Argument: `TaskFailure`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self.cancel = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, body: Callable[[threading.Event, Callable[[Any], None], Emit], Any]) -> bool:
        if self.busy:
            return False
        self.cancel = cancel = threading.Event()

        def run() -> None:
            try:
                value = body(cancel, self.sig_trial.emit, self.sig_event.emit)
            except BaseException as exc:  # noqa: BLE001 - reported to the GUI
                self.sig_failed.emit(TaskFailure(exc))
            else:
                self.sig_done.emit(value)
            finally:
                self.sig_busy_changed.emit(False)

        self._thread = threading.Thread(target=run, name="workbench-tune", daemon=True)
        self.sig_busy_changed.emit(True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self.cancel.set()

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        self.cancel.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True
