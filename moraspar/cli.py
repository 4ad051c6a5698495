"""The `moraspar` command: Flask's CLI over create_app, plus our commands."""

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
    from moraspar.demo import load_demo

    session = get_session()
    summary = load_demo(session)
    session.commit()
    click.echo(f"Demo data: {summary}")
    click.echo("Demo sign-ins (password moraspar-demo):")
    for email in (
        "teacher@moraspar.example",
        "company@moraspar.example",
        "council@moraspar.example",
        "admin@moraspar.example",
    ):
        click.echo(f"  {email}")


@click.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Deliver the emails waiting in the outbox."""
    from moraspar.mail import MailSettings, deliver_pending

    config = current_app.config
    settings = MailSettings(
        sender=config["MAIL_FROM"],
        server=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"],
        use_tls=bool(config["MAIL_USE_TLS"]),
        outbox_dir=config["OUTBOX_DIR"],
    )
    session = get_session()
    sent, failed = deliver_pending(session, settings)
    session.commit()
    click.echo(f"Sent {sent}, failed {failed}.")


@click.command("close-expired")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def close_expired_command(today: Any) -> None:
    """Close needs and placements whose end date has passed (run daily)."""
    from datetime import date

    from moraspar.postings import close_expired

    session = get_session()
    counts = close_expired(session, today=today.date() if today else date.today())
    session.commit()
    click.echo(f"Closed {counts['need']} needs and {counts['placement']} placements.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo)
    app.cli.add_command(send_mail)
    app.cli.add_command(close_expired_command)
