"""`flask --app wsgi <command>`: accounts and demo data from the shell."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask, current_app

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment, User
from booking.services import accounts, bulk, demo
from booking.services.errors import ServiceError
from booking.services.passwords import password_problem


def init_commands(app: Flask) -> None:
    app.cli.add_command(deliver_mail)
    app.cli.add_command(send_reminders)
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(seed_load)


@click.command("create-user")
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--name", "full_name", required=True, help="Full name as people should see it.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PATIENT.value, show_default=True)
@click.option("--phone", default=None)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (never from the command line, where `ps` shows it).",
)
def create_user(email: str, full_name: str, role: str, phone: str | None, password_stdin: bool) -> None:
    """Create an account of any role; its e-mail counts as verified."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            email=email, full_name=full_name, role=role, password=password, phone=phone, verified=True
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@click.command("seed-demo")
@click.option("--password", required=True, help="The password every demo account gets (10+ characters).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo(password: str, if_empty: bool) -> None:
    """Create the demo clinic: an admin, staff with providers, patients, and appointments. Idempotent."""
    if if_empty and db.session.scalar(sa.select(sa.func.count(User.id))):
        click.echo("The database already has users; demo data not added.")
        return
    problem = password_problem(password)
    if problem:
        raise click.ClickException(f"--password: {problem}")
    report = demo.seed_demo(password, current_app.config["TIMEZONE"])
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    appointments = db.session.scalar(sa.select(sa.func.count(Appointment.id)))
    click.echo(
        f"Demo clinic ready: {report.created_users} users and {report.created_appointments} appointments added "
        f"({users} users, {appointments} appointments in all)."
    )


@click.command("seed-load")
@click.option("--providers", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--appointments", type=click.IntRange(min=0), default=1_000_000, show_default=True)
@click.option("--patients", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--password", default="bench-password", show_default=True, help="The password of every load account.")
def seed_load(providers: int, appointments: int, patients: int, password: str) -> None:
    """Fast bulk data for benchmarks: load-staffN@load.test providers, load-patientN@load.test patients and
    appointments (mostly past, a few per cent in the next 60 days). Runs once per database."""
    problem = password_problem(password)
    if problem:
        raise click.ClickException(f"--password: {problem}")
    try:
        report = bulk.seed_load(
            providers=providers, appointments=appointments, patients=patients, password=password,
            clinic_zone=current_app.config["TIMEZONE"],
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Loaded {report.providers} providers, {report.patients} patients, {report.appointments} appointments "
        f"({report.upcoming} upcoming) and {report.events} events in {report.seconds:.1f} s."
    )


@click.command("deliver-mail")
@click.option("--limit", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="At most this many messages in one run.")
def deliver_mail(limit: int) -> None:
    """Send the queued e-mails that are due, retrying failed ones with backoff. Safe to run from cron
    every minute and from several machines at once: each message is claimed by one deliverer."""
    from booking.services.outbox import deliver

    sent, failed = deliver(limit=limit)
    click.echo(f"{sent} sent, {failed} failed attempts.")


@click.command("send-reminders")
def send_reminders() -> None:
    """Queue the reminders that are due and send them. Safe every minute from cron, and twice at once."""
    from booking.services.outbox import deliver
    from booking.services.reminders import queue_due_reminders

    queued = queue_due_reminders()
    sent, failed = deliver()
    click.echo(f"{queued} reminders queued; {sent} e-mails sent, {failed} failed attempts.")
