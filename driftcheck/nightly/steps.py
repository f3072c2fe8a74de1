"""The steps of publishing a run, named once, with a kill point after each for the crash tests.

With DRIFTCHECK_TEST_KILL_AT=<step> in the environment, the process kills itself with SIGKILL
right after that step: the tests prove that a kill at any point leaves the report directory
consistent. With DRIFTCHECK_TEST_KILL_WITH=TERM too, it sends itself SIGTERM instead, which the
CLI turns into an exception raised there: a stopped run cleans up on its way out. Without the
variables `reached()` only reads the environment.
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "DRIFTCHECK_TEST_KILL_AT"
SIGNAL_ENV = "DRIFTCHECK_TEST_KILL_WITH"  # the signal's name without SIG; KILL if unset

# In the order publish() passes them.
STEPS = (
    "history-opened",  # recovery done: latest names history's last run
    "run-files-written",  # runs/.<id>.partial/ holds every file, synced
    "run-folder-renamed",  # runs/<id>/ complete, not in history yet: latest unchanged
    "history-recorded",  # the commit point: the run is in history, latest not moved yet
    "latest-moved",  # latest -> runs/<id>
    "links-updated",  # report.* -> latest/report.*
    "history-pruned",
    "run-folder-doomed",  # an old run renamed to runs/.<id>.removing, not removed yet
    "runs-pruned",
)


def reached(step: str) -> None:
    """Mark `step` done; signal this process if the tests asked for a kill here."""
    if step not in STEPS:
        raise ValueError(f"unknown publishing step {step!r}")
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.Signals[f"SIG{os.environ.get(SIGNAL_ENV, 'KILL')}"])
