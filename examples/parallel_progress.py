"""Show the progress of a ``Parallel`` call.

Three ways, from the simplest:

1. ``verbose=``: joblib's own progress lines on stderr;
2. ``progress=``: an extension of this package.  ``progress=True`` draws a
   bar (tqdm's when tqdm is installed), and ``progress=callable`` receives
   an event for each completed task, here used to draw a custom bar;
3. the ``BatchCompletionCallBack`` pattern, which also works with upstream
   joblib: temporarily replace the class that joblib calls each time a
   batch of tasks completes.

    python examples/parallel_progress.py
"""

import contextlib
import inspect
import sys
import time

import joblib.parallel
from joblib import Parallel, delayed

N_TASKS = 20


def work(i):
    time.sleep(0.02)
    return i * i


def with_verbose():
    print("1. verbose=10 (messages go to stderr)")
    results = Parallel(n_jobs=2, verbose=10)(delayed(work)(i) for i in range(N_TASKS))
    assert results == [i * i for i in range(N_TASKS)]


class TextBar:
    """A minimal progress bar fed by ``Parallel(progress=...)`` events."""

    def __init__(self, width=30):
        self.width = width

    def __call__(self, event):
        total = event.n_total or N_TASKS
        filled = self.width * event.n_completed // total
        sys.stdout.write("\r   [%s%s] %d/%d tasks, %.1f s"
                         % ("#" * filled, "." * (self.width - filled),
                            event.n_completed, total, event.elapsed))
        if event.n_completed == total:
            sys.stdout.write("\n")
        sys.stdout.flush()


def with_progress_argument():
    print("2. progress=callable")
    results = Parallel(n_jobs=2, progress=TextBar())([delayed(work)(i) for i in range(N_TASKS)])
    assert results == [i * i for i in range(N_TASKS)]
    print("   progress=True")
    Parallel(n_jobs=2, progress=True)([delayed(work)(i) for i in range(N_TASKS)])


@contextlib.contextmanager
def report_batches(report):
    """Call ``report(n_tasks_in_batch)`` each time a batch completes."""
    original = joblib.parallel.BatchCompletionCallBack

    class ReportingCallBack(original):
        def __call__(self, *args, **kwargs):
            report(self.batch_size)
            return super().__call__(*args, **kwargs)

    joblib.parallel.BatchCompletionCallBack = ReportingCallBack
    try:
        yield
    finally:
        joblib.parallel.BatchCompletionCallBack = original


def with_callback_patch():
    print("3. BatchCompletionCallBack subclass (works with upstream joblib too)")
    done = [0]

    def report(n):
        done[0] += n
        sys.stdout.write("\r   %d/%d tasks done" % (done[0], N_TASKS))
        sys.stdout.flush()

    with report_batches(report):
        results = Parallel(n_jobs=2)(delayed(work)(i) for i in range(N_TASKS))
    sys.stdout.write("\n")
    assert results == [i * i for i in range(N_TASKS)]
    assert done[0] == N_TASKS


def main():
    with_verbose()
    if "progress" in inspect.signature(Parallel).parameters:
        with_progress_argument()
    else:
        print("2. skipped: this joblib has no progress= argument")
    with_callback_patch()


if __name__ == "__main__":
    main()
