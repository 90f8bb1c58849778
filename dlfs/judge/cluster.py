"""Where submissions are graded: a Dask distributed cluster.

``python3 -m dlfs grade`` reads each submission and writes every result itself (the gradebook, the report,
the autograded notebooks); what takes the time — running a learner's answers in a sandboxed kernel and
judging what it observed (``dlfs.judge.grade.verdicts_of``) — is a task on a Dask worker:

- by default a ``LocalCluster`` on this machine: one worker process per core, one task at a time each
  (a task runs one kernel: a core's worth of work);
- with ``--scheduler tcp://HOST:PORT`` (or ``$DLFS_SCHEDULER``) an existing cluster, whose workers must have
  the course installed at the same version and bubblewrap (the chapter, with its release files, is sent to
  them; nothing is read from the course folder on a worker).

Each task's outcome reaches the grading command as it ends, whatever the order: a task that raised, a worker
that died while grading (the task is not retried: ``allowed-failures`` is 0 on the local cluster), and a
task that ran longer than its time limit (its worker is restarted, which ends its kernel) each become that
learner's outcome, and the others go on.
"""

import contextlib
import logging
import os
import time

import dask
from distributed import Client, LocalCluster, wait

SCHEDULER_VARIABLE = "DLFS_SCHEDULER"
LOCAL_SETTINGS = {
    "distributed.scheduler.allowed-failures": 0,      # a worker that dies while grading fails that one task
    "distributed.scheduler.worker-saturation": 1.0,   # a worker holds only the task it runs (time limits)
    "distributed.admin.tick.limit": "1h",             # (a busy kernel start is not an event-loop problem)
}


class Failure(str):
    """Why a task produced no result (a message for the report)."""


@contextlib.contextmanager
def client(scheduler=None, workers=None):
    """A Dask client: of the cluster at ``scheduler`` (default $DLFS_SCHEDULER), else of a new local cluster
    with ``workers`` single-threaded worker processes (default: one per core)."""
    scheduler = scheduler or os.environ.get(SCHEDULER_VARIABLE)
    with dask.config.set(LOCAL_SETTINGS):
        if scheduler:
            with Client(scheduler) as connected:
                yield connected
            return
        with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as local:
            yield local


def timed(function, *arguments):
    """(function(*arguments), the seconds it took on the worker)."""
    start = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - start


def outcomes(dask_client, function, shared, jobs, time_limit):
    """Run ``function(shared, *arguments)`` for each ``name: arguments`` of ``jobs`` on the cluster; yield
    ``(name, result or Failure, seconds it ran or None)`` as each ends. ``shared`` is sent to every worker once.
    A task running longer than ``time_limit`` seconds is stopped (its worker restarted)."""
    shared = dask_client.scatter(shared, broadcast=True, hash=False)
    pending = {dask_client.submit(timed, function, shared, *arguments, pure=False,
                                  key=f"grade-{name}-{os.urandom(4).hex()}"): name for name, arguments in jobs.items()}
    started = {}
    while pending:
        try:
            done = wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            done = set()
        for future in done:
            name = pending.pop(future)
            yield (name, *_result(future))
        now = time.monotonic()
        running = {key: worker for worker, keys in dask_client.processing().items() for key in keys}
        for future, name in list(pending.items()):
            if future.key in running:
                started.setdefault(future.key, now)
                if now - started[future.key] > time_limit:
                    del pending[future]
                    future.cancel()
                    with contextlib.suppress(Exception):
                        dask_client.restart_workers([running[future.key]], timeout=60)
                    yield name, Failure(f"grading it took longer than its time limit ({time_limit:g} s) and was "
                                        "stopped"), None


def _result(future):
    """(result, seconds) of a finished task, or (Failure, None)."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - every failure becomes that learner's outcome
        if type(error).__name__ == "KilledWorker":
            return Failure("the worker grading it died"), None
        return Failure(f"{type(error).__name__}: {error}"), None
