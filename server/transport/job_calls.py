"""Unary and streaming RPCs over a job of the torch job pool (Dream, Stylize)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from oneiros_server import metrics
from oneiros_server.control import CallControl
from oneiros_server.jobs import Job


def result_of(job: Job, rpc: str, progress_type: type) -> Any:
    """Drain the job's events (counting steps) and return its result."""
    steps = metrics.JOB_STEPS.labels(rpc)
    result = None
    for event in job.events():
        if isinstance(event, progress_type):
            steps.inc()
        else:
            result = event
    return result


def stream_of(
    job: Job,
    rpc: str,
    progress_type: type,
    control: CallControl,
    on_progress: Callable[[Any], Any],
    on_result: Callable[[Any], Any],
) -> Iterator:
    """One message per progress event, then one for the result."""
    steps = metrics.JOB_STEPS.labels(rpc)
    try:
        for event in job.events():
            if isinstance(event, progress_type):
                steps.inc()
                yield on_progress(event)
            else:
                yield on_result(event)
    except GeneratorExit:  # the client went away: stop the job at its next step
        control.cancel()
        raise
