"""`vigil worker` and `vigil jobs`: run the periodic jobs, see how they and the feeds are doing."""

from __future__ import annotations

import typer

from vigil.cli_output import JsonFlag, print_table
from vigil.cli_support import echo_json, get_store

__all__ = ["app", "register", "worker"]

app = typer.Typer(help="Periodic jobs and change-feed followers.", no_args_is_help=True)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    as_json: JsonFlag = False,
) -> None:
    """Every job with its period, last run, duration, result and runner; feed followers' lag."""
    from vigil.feed import follower_lag
    from vigil.formats import duration, instant
    from vigil.jobs.service import list_jobs as jobs_of
    from vigil.validation import rfc3339

    store = get_store(ctx)
    with store.read() as session:
        jobs = jobs_of(session=session)
        lags = follower_lag(session=session)
    if as_json:
        echo_json(
            {
                "jobs": [
                    {
                        "name": j.name,
                        "period_seconds": j.period_seconds,
                        "next_due_at": rfc3339(j.next_due_at),
                        "running_on": j.owner,
                        "last_started_at": j.last_started_at and rfc3339(j.last_started_at),
                        "last_duration_seconds": j.last_duration_seconds,
                        "last_result": j.last_result,
                        "last_summary": j.last_summary,
                        "last_runner": j.last_runner,
                        "runs": j.runs,
                        "failures": j.failures,
                    }
                    for j in jobs
                ],
                "followers": [
                    {"follower": f.follower, "log": f.log, "behind": f.rows} for f in lags
                ],
            }
        )
        return
    if not jobs:
        typer.echo("no job has run yet: start `vigil serve` or `vigil worker`")
        return
    print_table(
        ["Job", "Every", "Last run", "Took", "Result", "Runner", "Runs", "Failures", "Summary"],
        [
            [
                j.name,
                duration(j.period_seconds),
                instant(j.last_started_at),
                "-" if j.last_duration_seconds is None else f"{j.last_duration_seconds:.3f}s",
                j.last_result or "never run",
                j.last_runner or "-",
                j.runs,
                j.failures,
                j.last_summary or "",
            ]
            for j in jobs
        ],
    )
    print_table(
        ["Follower", "Log", "Rows behind"],
        [[f.follower, f.log, f.rows] for f in lags],
        title="Feed followers",
    )


def worker(ctx: typer.Context) -> None:
    """Run the periodic jobs (heartbeat checks, availability refresh) without the HTTP server."""
    import signal
    import threading

    from vigil.db import register_process
    from vigil.jobs.runner import runners_for

    store = get_store(ctx)
    store.ensure_schema()
    from vigil.notify import check_key_for_channels

    with store.read() as session:
        check_key_for_channels(session=session, settings=store.settings)
    runfile = register_process(store.settings, store.url, "worker")
    runners = runners_for(store)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    names = ", ".join(j.name for r in runners for j in r.jobs)
    typer.echo(f"worker running jobs: {names}", err=True)
    for runner in runners:
        runner.start()
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for runner in runners:
            runner.stop()
        runfile.unlink(missing_ok=True)


def register(root: typer.Typer) -> None:
    """Mount `vigil worker` and `vigil jobs` on the root app."""
    root.command()(worker)
    root.add_typer(app, name="jobs")
