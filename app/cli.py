"""Command-line tasks: seed, purge-expired, errors, staff create/reset-password/deactivate/activate, keys rotate/ensure/retire/list (by purpose),
trust add/sync/list/remove (app/cli_trust.py), notify run/status (app/cli_notify.py)."""
import os

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app import error_codes, simulate
from app.cli_notify import notify_cli
from app.cli_trust import trust_cli
from app.conflicts import run_with_retries
from app.errors import DomainError
from app.extensions import db
from app.models import Checkpoint
from app.models.staff import ROLES
from app.services.accounts import staff
from app.models.transport import KEY_PURPOSES
from app.services.credentials import signing, trust
from app.services.office import reference_data, retention
from app.services.platform.ids import parse_id

staff_cli = AppGroup("staff", help="Staff accounts.")
keys_cli = AppGroup("keys", help="Signing keys: trip credentials, health certificates, the trust list's root.")


def register(app):
    """Attach the project's commands to the app's CLI."""
    app.cli.add_command(staff_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(trust_cli)
    app.cli.add_command(notify_cli)

    @app.cli.command("seed")
    def seed():
        """Load Yinchuan's counties, parks, checkpoints and sample enterprises (idempotent)."""
        created = run_with_retries(reference_data.load_reference_data, label="seed")
        click.echo(f"reference data loaded: {created} new rows")

    @app.cli.command("simulate")
    @click.option("--workers", default=300, show_default=True, help="How many workers to sign up.")
    @click.option("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
    @click.option("--fever-rate", default=0.03, show_default=True, help="Share of boardings with a fever.")
    def simulate_command(workers, seed, fever_rate):
        """Drive the whole flow through the HTTP API: sign-up to arrival, with a few fevers."""
        summary = simulate.run(current_app._get_current_object(), workers=workers, seed=seed, fever_rate=fever_rate)
        click.echo("staff logins for the console (username / password):")
        for code, (username, password) in summary["staff"].items():
            click.echo(f"  {code}  {username}  {password}")

    @app.cli.command("errors")
    def errors():
        """Print every error code the API answers with, as README's Markdown table."""
        click.echo(error_codes.readme_table())

    @app.cli.command("purge-expired")
    @click.option("--dry-run", is_flag=True, help="Count what would be purged, change nothing.")
    def purge_expired(dry_run):
        """Erase personal data older than RETENTION_DAYS (PIPL: keep no longer than needed)."""
        # One transaction: a Galera conflict with a concurrent write runs it again, as a request would be.
        counts = run_with_retries(lambda: retention.purge_expired(dry_run=dry_run), label="purge-expired")
        click.echo(("would purge: " if dry_run else "purged: ") + ", ".join(f"{k}={v}" for k, v in counts.items()))


# The service names scope fields as stored; the operator typed options.
_OPTION_OF = {"county_code": "--county", "park_id": "--park", "enterprise_id": "--enterprise",
              "checkpoint_id": "--checkpoint", "role": "--role", "password": "password"}


@staff_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", "display_name", help="Display name (姓名).")
@click.option("--county", "county_code", help="County code, for county/transport operators.")
@click.option("--park", "park_id", type=int, help="Park id, for park operators.")
@click.option("--enterprise", "enterprise_id", type=int, help="Enterprise id, for enterprise HR.")
@click.option("--checkpoint", "checkpoint", help="Checkpoint id or code (yinchuan-railway…), for checkpoint staff.")
@click.option("--password-env", help="Read the password from this environment variable instead of a prompt.")
def create_staff(username, role, display_name, county_code, park_id, enterprise_id, checkpoint, password_env):
    """Create a staff account; the password (at least 10 characters) is prompted for, or read from --password-env."""
    password = _password(password_env)
    checkpoint_id = _checkpoint_id(checkpoint)
    try:
        user = staff.create_staff(username, password, role, display_name, county_code=county_code,
                                  park_id=park_id, enterprise_id=enterprise_id, checkpoint_id=checkpoint_id, by=staff.CLI)
    except DomainError as error:
        raise click.ClickException(_say_options(error)) from None
    click.echo(f"created staff #{user.id} {user.username} ({user.role})")


@staff_cli.command("reset-password")
@click.argument("username")
@click.option("--password-env", help="Read the new password from this environment variable instead of a prompt.")
def reset_password(username, password_env):
    """Set a new password (at least 10 characters) for a staff account and end all its sessions."""
    password = _password(password_env, prompt="New password")
    try:
        user = staff.reset_password(username, password, by=staff.CLI)
    except DomainError as error:
        raise click.ClickException(_say_options(error)) from None
    click.echo(f"password reset for staff #{user.id} {user.username}; their sessions are signed out")


@staff_cli.command("deactivate")
@click.argument("username")
def deactivate(username):
    """Deactivate a staff account: it cannot log in any more, and its sessions end at once."""
    try:
        user = staff.deactivate(username, by=staff.CLI)
    except DomainError as error:
        raise click.ClickException(_say_options(error)) from None
    click.echo(f"deactivated staff #{user.id} {user.username}; their sessions are signed out")


@staff_cli.command("activate")
@click.argument("username")
def activate(username):
    """Let a deactivated staff account sign in again, with its old password."""
    try:
        user = staff.activate(username, by=staff.CLI)
    except DomainError as error:
        raise click.ClickException(_say_options(error)) from None
    click.echo(f"activated staff #{user.id} {user.username}")


def _password(password_env, prompt="Password"):
    """The password from --password-env, or asked for twice without echo."""
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            state = "is empty" if password_env in os.environ else "is not set"
            raise click.UsageError(f"--password-env {password_env}: the environment variable {state}")
        return password
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _checkpoint_id(value):
    """A checkpoint given by id or by its code (the codes are in the reference data; ids differ per database)."""
    if value is None:
        return None
    if parse_id(value) is not None:
        return parse_id(value)
    found = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == value))
    if found is None:
        codes = ", ".join(db.session.scalars(select(Checkpoint.code).order_by(Checkpoint.id)))
        raise click.BadParameter(f"no checkpoint with code {value!r} (codes: {codes})", param_hint="--checkpoint")
    return found


def _say_options(error):
    message = error.message
    for field, option in _OPTION_OF.items():
        message = message.replace(field, option)
    fields = "; ".join(f"{_OPTION_OF.get(name, name)}: {text}" for name, text in (error.fields or {}).items())
    return f"{message} ({fields})" if fields else message


_PURPOSE = click.option("--purpose", type=click.Choice(KEY_PURPOSES), default="trip", show_default=True,
                        help="trip: trip QR codes and offline bundles; certificate: health certificates (健康证明); "
                             "root: the trust list partners pin by fingerprint.")


_SIGNS = {"trip": "new trip credentials", "certificate": "new health certificates", "root": "the trust list"}


@keys_cli.command("rotate")
@_PURPOSE
def rotate(purpose):
    """Make a new key for a purpose; it signs from now on, older keys keep verifying until retired."""
    key = signing.rotate_key(purpose)
    click.echo(f"new {purpose} key {key.kid}")
    if purpose == "root":
        click.echo(f"root fingerprint {trust.root_fingerprint()}: give it to every partner again (flask trust add)")


@keys_cli.command("ensure")
def ensure():
    """Make a key for each purpose (trip, certificate, root) that has none active (used by `make run`)."""
    for purpose in KEY_PURPOSES:
        key = signing.ensure_key(purpose)
        click.echo(f"active {purpose} key {key.kid}")
    click.echo(f"root fingerprint {trust.root_fingerprint()}")


@keys_cli.command("retire")
@click.argument("kid")
def retire(kid):
    """Retire a key: what it signed stops verifying (a retired root key stops signing the trust list)."""
    if signing.retire_key(kid) is None:
        raise click.ClickException(f"no key {kid}")
    click.echo(f"retired {kid}")


@keys_cli.command("list")
def list_keys():
    """Show every key by purpose with its state: the one that signs, the others that only verify, the retired."""
    for purpose in KEY_PURPOSES:
        signer = signing.signer_or_none(purpose)
        for key in signing.trust_list(purpose):
            if key.retired_at:
                state = f"retired {key.retired_at:%Y-%m-%d %H:%M} UTC (what it signed no longer verifies)"
            elif signer is not None and key.kid == signer.kid:
                state = f"active, SIGNS {_SIGNS[purpose]}"
            else:
                state = "active, verifies only (a newer key signs)"
            click.echo(f"{key.kid}  {purpose:<11}  {key.algorithm}  created {key.created_at:%Y-%m-%d %H:%M} UTC  {state}")
    fingerprint = trust.root_fingerprint()
    if fingerprint:
        click.echo(f"root fingerprint {fingerprint}")
