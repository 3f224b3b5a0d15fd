"""Figures drawn in a forked child process, beside the parent's own work.

Importing matplotlib and drawing are interpreter work: a thread would wait for the parent's
lock, a forked child runs on the second core. Forked as a build starts, the child imports
matplotlib while the parent reads and checks the data; the step and its arguments are then sent
to it, and only they and the result (or the exception) are pickled, through a pipe. Where fork
is not available, the step runs in the parent when its result is asked for.

Fork only where the child will not use a thread pool the parent has started (polars', typst's):
the child has the pool's state but none of its threads, and would wait for them forever. For the
same reason nothing is forked while another Python thread runs (a program that calls the build
from a thread, or with threads of its own, such as a test run): that thread may hold a lock the
child would then wait for; the step runs in the parent instead.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

FORK = "fork" in multiprocessing.get_all_start_methods()


class Child:
    """A child process, forked now, that runs `ready()` and then the one step it is sent (`send`).

    `result()` waits and returns the step's result or raises its exception; `close()` ends a
    child that was sent no step (the parent failed, or found nothing to send).
    """

    def __init__(self, ready: Callable[[], Any]):
        self._job: tuple[Callable[..., Any], tuple] | None = None
        self._sent = self._asked = False
        self.forked = FORK and threading.active_count() == 1
        if not self.forked:
            return
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        # Not a daemon, so that it may fork a helper in turn: a child left waiting ends when the
        # parent's end of the pipe closes (the parent exits), since it closes its copy of it.
        self._process = context.Process(target=_serve, args=(theirs, self._pipe, ready))
        self._process.start()
        theirs.close()

    def send(self, step: Callable[..., Any], *args: Any) -> None:
        """Give the child its step; the step and arguments must pickle (a module's function)."""
        self._sent = True
        if self.forked:
            self._pipe.send((step, args))
        else:
            self._job = (step, args)

    def result(self) -> Any:
        self._asked = True
        if not self.forked:
            step, args = self._job
            return step(*args)
        try:
            succeeded, value = self._pipe.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(f"子进程异常退出（退出码 {self._process.exitcode}）") from None
        if not succeeded:
            raise value
        return value

    def close(self) -> None:
        """Wait for a step that was sent, whose files must not appear after the parent has
        moved on (or cleaned up after a failure); end a child that was sent none. Once."""
        if not self.forked or self._pipe.closed:
            return
        if self._sent and not self._asked:
            try:
                self._pipe.recv()
            except EOFError:
                pass
        elif not self._sent:
            self._process.terminate()
        self._pipe.close()
        self._process.join()


def _serve(pipe, parents: Any, ready: Callable[[], Any]) -> None:
    """The child's side: get ready, take the step, send back its outcome."""
    parents.close()
    unready = None
    try:
        ready()
    except BaseException as exc:  # told when the step is asked for
        unready = exc
    try:
        step, args = pipe.recv()
    except EOFError:  # the parent needed nothing after all
        return
    try:
        if unready is not None:
            raise unready
        outcome = (True, step(*args))
    except BaseException as exc:  # every failure goes back to the parent, which raises it
        outcome = (False, exc)
    try:
        pipe.send(outcome)
    except OSError:  # the parent is gone: nobody to tell
        pass
    except Exception:  # an exception that cannot be pickled: its text still can
        pipe.send((False, RuntimeError(repr(outcome[1]))))
