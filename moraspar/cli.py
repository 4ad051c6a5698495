"""The `moraspar` command: Flask's CLI over create_app, plus our commands."""

# subprocess: only to catch CalledProcessError from the backup commands.
import subprocess  # nosec B404
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from moraspar.db import get_session


def _create_app() -> Flask:
    from moraspar import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Moraspår: school–business matching for Moraspåret in Mora."""


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    from moraspar.paths import migrations_folder

    config = Config()
    config.set_main_option("script_location", migrations_folder())
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. -1 or base)."""
    from alembic import command

    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database at {revision}.")


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    from alembic import command

    command.check(alembic_config(current_app.config["DATABASE_URL"]))
    click.echo("Models and migrations agree.")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    from alembic import command

    command.revision(
        alembic_config(current_app.config["DATABASE_URL"]),
        message=message,
        autogenerate=True,
    )


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the Mora demo data (safe to run again: nothing is duplicated)."""
    from moraspar.demo import DEMO_PASSWORD, load_demo
    from moraspar.demo.dataset import DemoDataError, load_dataset

    try:
        dataset = load_dataset()
    except DemoDataError as exc:
        raise click.ClickException(str(exc)) from exc
    session = get_session()
    summary = load_demo(session, dataset)
    session.commit()
    click.echo(f"Demo data: {summary}")
    click.echo(f"Demo sign-ins (password {DEMO_PASSWORD}):")
    for user in dataset.users:
        click.echo(f"  {user.email}")


@click.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Deliver the emails that are due now (the worker does this every minute)."""
    from moraspar.jobs.tasks import mail_settings
    from moraspar.notifications.mail import deliver_due

    done = deliver_due(get_session(), mail_settings(current_app))
    click.echo(
        f"Sent {done.sent}, to try again later {done.retry}, failed {done.failed}."
    )


@click.command("close-expired")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def close_expired_command(today: Any) -> None:
    """Close needs and placements whose end date has passed (run daily)."""
    from datetime import date

    from moraspar.lifecycle import close_expired

    session = get_session()
    counts = close_expired(session, today=today.date() if today else date.today())
    session.commit()
    click.echo(f"Closed {counts['need']} needs and {counts['placement']} placements.")


@click.command("reindex-search")
@with_appcontext
def reindex_search_command() -> None:
    """Analyse every posting's words for the search again (after an upgrade
    that changed how search words are analysed)."""
    from moraspar.companies.services import reindex_search_text

    session = get_session()
    counts = reindex_search_text(session)
    session.commit()
    click.echo(
        f"Search text updated for {counts['placement']} placements, "
        f"{counts['need']} needs and {counts['skill_gap']} skill gaps."
    )


@click.command("refit-ranker")
@click.option("--min-labels", default=20, show_default=True, type=click.IntRange(2))
@click.option("--seed", default=0, show_default=True, type=int)
@with_appcontext
def refit_ranker(min_labels: int, seed: int) -> None:
    """Refit the ranker's weights on the council's approvals and declines."""
    from moraspar.council.learning import REFUSED, refit

    session = get_session()
    result = refit(session, min_labels=min_labels, seed=seed)
    session.commit()
    click.echo(
        f"Decisions: {result.labels} ({result.approved} approved, "
        f"{result.declined} declined)."
    )
    if result.outcome != REFUSED:
        after = result.quality_after
        click.echo(f"ROC AUC before: {result.quality_before:.3f}")
        after_text = f"{after:.3f}" if after is not None else "n/a"
        click.echo(f"ROC AUC after:  {after_text}")
        for name, value in (result.weights_after or {}).items():
            old = (result.weights_before or {}).get(name, 0.0)
            click.echo(f"  {name:<9} {old:.3f} -> {value:.3f}")
    click.echo(result.message)


@click.command("request-evaluations")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def request_evaluations_command(today: Any) -> None:
    """Ask both sides of ended bookings for an evaluation (run daily; idempotent)."""
    from datetime import date

    from moraspar.bookings.services import request_evaluations

    session = get_session()
    count = request_evaluations(session, today=today.date() if today else date.today())
    session.commit()
    click.echo(f"Asked for evaluations of {count} bookings.")


@click.command("send-reminders")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def send_reminders_command(today: Any) -> None:
    """Send the reminders that are due: unanswered proposals, bookings about to
    start, evaluations not given (run daily; each reminder goes out once)."""
    from datetime import date

    from moraspar.bookings.reminders import send_due
    from moraspar.jobs.tasks import reminder_settings

    session = get_session()
    sent = send_due(
        session,
        today=today.date() if today else date.today(),
        settings=reminder_settings(current_app),
    )
    session.commit()
    click.echo(
        f"Sent {sent.unanswered} reminders of unanswered proposals, "
        f"{sent.booking} of bookings about to start, "
        f"{sent.evaluation} of evaluations."
    )


@click.command("match")
@with_appcontext
def match_command() -> None:
    """Run matching now, in this process: the run a council member queued, or
    a new one (a worker does this when the queue is running)."""
    from moraspar.council.runs import PHASES, RunInProgress, create_run, queued_run
    from moraspar.jobs import matchruns
    from moraspar.jobs.tasks import lease

    session = get_session()
    try:
        run = queued_run(session) or create_run(session, actor=None)
    except RunInProgress as exc:
        raise click.ClickException(
            f"Run {exc.run.id} is already {exc.run.status}."
        ) from exc
    session.commit()
    assert run.id is not None
    with click.progressbar(length=len(PHASES), label="Matching") as bar:

        def progress(done: int, total: int, phase: str) -> None:
            bar.label = f"Matching ({phase})"
            bar.update(done - bar.pos)

        outcome = matchruns.execute(
            session, run.id, actor_id=None, lease=lease(current_app), progress=progress
        )
    if outcome.status == "skipped":
        raise click.ClickException(f"Run {run.id} is taken by a worker.")
    summary = outcome.summary
    if summary is None:
        raise click.ClickException(
            f"Run {run.id} failed: {outcome.reason} "
            "(the previous proposals are unchanged)"
        )
    click.echo(
        f"Run {summary.run_id} done ({summary.ranker_version}): "
        f"{summary.proposals} proposals for {summary.needs} needs and "
        f"{summary.placements} placements; {summary.students_covered} of "
        f"{summary.students_needed} students covered; "
        f"{summary.uncovered_needs} needs uncovered; "
        f"{summary.gap_matches} programme–gap matches."
    )


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Also enqueue the periodic jobs (safe on every worker: each slot runs once).",
)
@with_appcontext
def worker_command(threads: int, scheduler: bool) -> None:
    """Run the job worker: match runs, mail, the daily chores (until stopped)."""
    from moraspar.jobs.queue import queue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    huey = queue(app)
    if huey.immediate:
        raise click.ClickException("The queue runs jobs at once here (TESTING).")
    consumer = huey.create_consumer(
        workers=threads, periodic=scheduler, worker_type="thread", max_delay=2.0
    )
    click.echo(f"Worker: {threads} threads on {app.config['QUEUE_URL'].split('@')[-1]}")
    consumer.run()


@click.group("jobs")
def jobs_group() -> None:
    """The periodic jobs."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """Each periodic job with its last and next run."""
    from moraspar.jobs import records
    from moraspar.jobs.tasks import JOBS
    from moraspar.models import utcnow

    now = utcnow()
    last = records.last_runs(get_session(), [job.name for job in JOBS])
    for job in JOBS:
        run = last.get(job.name)
        seen = f"{run.started_at:%Y-%m-%d %H:%M} {run.status}" if run else "never"
        due = job.schedule.next_after(now)
        click.echo(f"{job.name:<20} last {seen:<24} next {due:%Y-%m-%d %H:%M} UTC")


@jobs_group.command("run")
@click.argument("name")
@with_appcontext
def jobs_run(name: str) -> None:
    """Run the periodic job NAME once, here and now."""
    from moraspar.jobs.tasks import BY_NAME, run_scheduled

    job = BY_NAME.get(name)
    if job is None:
        raise click.ClickException(f"No job {name!r}; one of: {', '.join(BY_NAME)}.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"{name}: {run_scheduled(app, job)}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a backup of the database to PATH (safe while the app runs)."""
    from moraspar.admin.backup import BackupError, backup

    try:
        backup(current_app.config["DATABASE_URL"], path)
    except (BackupError, OSError, subprocess.CalledProcessError) as exc:
        raise click.ClickException(f"Backup failed: {exc}") from exc
    click.echo(f"Backup written to {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with the backup in PATH (stop the app first)."""
    from moraspar.admin.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces every row in the database. Continue?", abort=True)
    try:
        restore(current_app.config["DATABASE_URL"], path)
    except (BackupError, OSError, subprocess.CalledProcessError) as exc:
        raise click.ClickException(f"Restore failed: {exc}") from exc
    click.echo(f"Database restored from {path}.")


@click.command("purge")
@click.option("--months", type=click.IntRange(min=1), default=None)
@with_appcontext
def purge_command(months: int | None) -> None:
    """Blank contact details on postings and proposals closed long ago."""
    from datetime import date

    from moraspar.privacy.services import purge

    session = get_session()
    keep = months or int(current_app.config["RETENTION_MONTHS"])
    outbox = Path(current_app.config["OUTBOX_DIR"])
    counts = purge(session, months=keep, today=date.today(), outbox_dir=outbox)
    session.commit()
    click.echo(
        f"Anonymised {counts['placements']} placements and "
        f"{counts['proposals']} proposal comments closed over {keep} months ago."
    )


def register_commands(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo)
    app.cli.add_command(send_mail)
    app.cli.add_command(close_expired_command)
    app.cli.add_command(reindex_search_command)
    app.cli.add_command(request_evaluations_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(refit_ranker)
    app.cli.add_command(match_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_group)
