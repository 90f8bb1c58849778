"""Run a notebook's code cells in a fresh Jupyter kernel, one at a time, and collect each test cell's records.

The grader sends the cells one by one, so the kernel never holds a test cell it has not reached yet.
During a test cell, dlfs.grading (in "observe" or "reference" mode) reports every check as display
data of type dlfs.grading.MIME (lists of records, sent when the cell ends, so that a cell with hundreds of
checks costs one message, not hundreds; the arrays they observed travel as the message's binary buffers);
everything else the cell prints is counted and dropped, never shown to anyone. A cell that runs past its time
limit is interrupted; a kernel that dies ends the run, and the cells it did not reach are reported as not run.
"""

import os
import queue
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import KernelManager

from dlfs.grading import MIME, from_buffers
from dlfs.judge import sandbox

OUTPUT_LIMIT = 10_000_000    # characters a cell may print before it is stopped
RECORD_LIMIT = 10_000        # records per cell
INTERRUPT_GRACE = 5          # seconds an interrupted cell has to stop before its kernel is shut down


@dataclass
class CellRun:
    """What one cell did: its records (test cells), the error type that ended it, if any, and what it
    printed (kept only when the run was asked to keep it: the trusted reference run)."""
    records: list = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    printed: str = ""


class _SandboxedKernelManager(KernelManager):
    workdir: str = ""
    shared: str = ""

    def format_kernel_cmd(self, extra_arguments=None):
        return sandbox.wrap(super().format_kernel_cmd(extra_arguments), self.workdir, self.shared)


class KernelRun:
    """A kernel in ``workdir`` (sandboxed unless ``sandboxed=False``), used as a context manager.

    Args:
        mode: dlfs.grading mode for test cells: "observe" (a learner's submission) or "reference".
        timeout: seconds per cell.
    """

    def __init__(self, workdir, mode, sandboxed=True, timeout=60, keep_printed=False):
        self.workdir, self.mode, self.sandboxed, self.timeout = str(workdir), mode, sandboxed, timeout
        self.keep_printed, self.dead, self.hooked = keep_printed, False, False

    def __enter__(self):
        self._shared = tempfile.mkdtemp(prefix="dlfs-kernel-")
        if self.sandboxed:
            manager = _SandboxedKernelManager(transport="ipc", ip=str(Path(self._shared) / "kernel"))
            manager.workdir, manager.shared = self.workdir, self._shared
        else:
            manager = KernelManager(transport="ipc", ip=str(Path(self._shared) / "kernel"))
        manager.connection_file = str(Path(self._shared) / "kernel.json")
        # a signal would reach bubblewrap, not the kernel: ask the kernel itself to interrupt
        manager.kernel_spec.interrupt_mode = "message"
        self.manager = manager
        # the kernel's own stdout/stderr are the learner's code's too: never shown
        manager.start_kernel(cwd=self.workdir, env={**os.environ, "MPLBACKEND": "Agg"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        return self

    def __exit__(self, *exc):
        try:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)
        finally:
            shutil.rmtree(self._shared, ignore_errors=True)

    def run(self, code, test=False):
        """Execute one cell; returns a CellRun. Test cells run with dlfs.grading in this run's mode."""
        if self.dead:
            return CellRun(error="KernelDied")
        if test and not self.hooked:
            # once per kernel: every cell then ends in "direct" mode, which sends the records still gathered in the
            # kernel, also after an error or an interrupt (one execute per test cell, not three)
            setup = self._execute("import dlfs.grading as _dlfs_grading\n"
                                  "get_ipython().events.register('post_run_cell', _dlfs_grading.end_of_cell)",
                                  collect=False)
            if setup.error or setup.timed_out:
                return CellRun(error=setup.error or "TimeoutError", timed_out=setup.timed_out)
            self.hooked = True
        if test:
            code = f"import dlfs.grading as _dlfs_grading; _dlfs_grading.grading_mode({self.mode!r})\n{code}"
        return self._execute(code, collect=test)

    def _execute(self, code, collect):
        result = CellRun()
        # stop_on_error=False: after an error or an interrupt, ipykernel would otherwise skip ("abort") the
        # cells sent right after it without running them, and report them idle like any other
        msg_id = self.client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline, printed = time.monotonic() + self.timeout, 0
        while True:
            if not self.manager.is_alive():
                self.dead = True
                result.error = result.error or "KernelDied"
                return result
            try:
                message = self.client.get_iopub_msg(timeout=min(1.0, max(0.05, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline and not result.timed_out:
                    # interrupted, the cell still ends (and sends its records) within INTERRUPT_GRACE seconds
                    result.timed_out, result.error = True, "TimeoutError"
                    self.manager.interrupt_kernel()
                    deadline = time.monotonic() + INTERRUPT_GRACE
                elif time.monotonic() > deadline:
                    self.dead = True       # it did not stop: nothing after this cell can be trusted to run
                    self.manager.shutdown_kernel(now=True)
                    return result
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message.get("content", {})
            if kind == "status" and content.get("execution_state") == "idle":
                return result
            if kind in ("display_data", "update_display_data") and collect:
                records = content.get("data", {}).get(MIME)
                records = records if isinstance(records, list) else [] if records is None else [records]
                kept = records[:max(0, RECORD_LIMIT - len(result.records))]
                result.records += from_buffers(kept, message.get("buffers") or [])
            elif kind == "stream":
                printed += len(content.get("text", ""))      # counted, never shown: it may quote the tests
                if self.keep_printed and printed <= OUTPUT_LIMIT:
                    result.printed += content.get("text", "")
                if printed > OUTPUT_LIMIT:   # the cell fails and keeps no record; the rest of its output is dropped
                    result.error, result.records, collect = "OutputLimitExceeded", [], False
            elif kind == "error" and result.error not in ("OutputLimitExceeded", "TimeoutError"):
                result.error = str(content.get("ename", "Error"))[:80]


def graded_run(notebook, workdir, mode, answers=None, sandboxed=True, timeout=60, skip_demos=False, printed=None):
    """Run a chapter's notebook the way a class is graded; returns {test grade_id: (records, index of the
    first hidden record)} and whether the kernel died.

    Args:
        notebook: the chapter's source notebook (solutions/NN/NN.ipynb): every cell but the answers
            comes from it, so a learner's edited or deleted test cells do not matter.
        answers: {answer grade_id: the learner's code}; an answer missing here keeps the source's
            cell, so pass every answer of a submission (the release's stub for a deleted one).
        mode: "reference" (the solution, trusted) or "observe" (a learner's answers).
        printed: a list to which what each cell printed is appended (for a trusted run only).
    """
    from dlfs.judge.hidden import parts_to_run

    answers = answers or {}
    results = {}
    with KernelRun(workdir, mode, sandboxed=sandboxed, timeout=timeout, keep_printed=printed is not None) as kernel:
        for cell in notebook.cells:
            if cell.cell_type != "code" or (skip_demos and cell.metadata.get("demo")):
                continue
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("grade") and not meta.get("solution")):
                run = kernel.run(answers.get(meta.get("grade_id"), cell.source))
                if printed is not None:
                    printed.append(run.printed)
                continue
            records, hidden_from = [], None
            for hidden, code in parts_to_run(cell.source, mode):
                if hidden is True:
                    hidden_from = len(records)
                run = kernel.run(code, test=True)
                records += run.records
                if printed is not None:
                    printed.append(run.printed)
                if run.error:
                    if run.error != "GradingError" or run.timed_out:
                        records.append({"check": "stopped", "raised": run.error})
                    break
            results[meta["grade_id"]] = (records, hidden_from)
        return results, kernel.dead
