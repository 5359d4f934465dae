"""A daemon thread per application that runs the jobs handed to it, one at a time, each in its own
application context (the statistics' recomputations and the exports, when no RQ worker is configured)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)


class JobThread:
    def __init__(self, app: Flask, name: str, run: Callable[..., object], failure: str):
        self.app = app
        self.run = run
        self.failure = failure
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name=f"certifia-{name}", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            args = self.jobs.get()
            with self.app.app_context():
                try:
                    self.run(*args)
                except Exception:  # the job's owner says what happens next (lock expiry, a failed export)
                    log.exception(self.failure, *args[:1])
                finally:
                    db.session.remove()
                    self.jobs.task_done()

    def put(self, *args) -> None:
        self.jobs.put(args)


_threads: dict[tuple[int, str], JobThread] = {}
_threads_lock = threading.Lock()


def job_thread(app: Flask, name: str, run: Callable[..., object], failure: str) -> JobThread:
    """The live thread `name` of `app`, started (again, if it died) on first use."""
    with _threads_lock:
        thread = _threads.get((id(app), name))
        if thread is None or not thread.thread.is_alive():
            thread = _threads[(id(app), name)] = JobThread(app, name, run, failure)
        return thread
