"""Command-line tasks: `flask seed`, `flask purge-expired`."""
import click

from app.services import reference_data, retention


def register(app):
    """Attach the project's commands to the app's CLI."""

    @app.cli.command("seed")
    def seed():
        """Load Yinchuan's counties, parks, checkpoints and sample enterprises (idempotent)."""
        created = reference_data.load_reference_data()
        click.echo(f"reference data loaded: {created} new rows")

    @app.cli.command("purge-expired")
    @click.option("--dry-run", is_flag=True, help="Count what would be purged, change nothing.")
    def purge_expired(dry_run):
        """Erase personal data older than RETENTION_DAYS (PIPL: keep no longer than needed)."""
        counts = retention.purge_expired(dry_run=dry_run)
        click.echo(("would purge: " if dry_run else "purged: ") + ", ".join(f"{k}={v}" for k, v in counts.items()))
