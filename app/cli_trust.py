"""`flask trust …`: import, refresh, list and remove partner deployments' trust lists (互认).

The actor of each change is the system (the command line), as for `flask staff`; every change is audited
by `partners`.
"""
import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.services.credentials import partners, trust
from app.services.platform.timeutil import iso_local

trust_cli = AppGroup("trust", help="Partner deployments whose health certificates are recognised here (互认).")


@trust_cli.command("add")
@click.argument("source")
@click.option("--fingerprint", required=True,
              help="SHA-256 fingerprint of the partner's root key, given by the partner out of band.")
def add(source, fingerprint):
    """Import a partner's trust list from its URL (…/api/checkin/v1/trust-list) or a saved file."""
    try:
        partner = partners.add(source, fingerprint)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None
    click.echo(f"added {partner.deployment_id} {partner.name}: {len(partner.document['keys'])} keys, "
               f"list issued {iso_local(partner.list_issued_at)}")
    click.echo(f"    counties it may issue certificates for: {_counties(partner.counties)}"
               " (a later list may not add more: remove and add again to accept new ones)")


@trust_cli.command("sync")
@click.option("--partner", "deployment_id", help="Only this partner (its deployment id).")
@click.option("--file", "file", type=click.Path(dir_okay=False),
              help="A list carried by hand (air-gapped office); the partner is the one it names.")
def sync(deployment_id, file):
    """Refresh partners' lists and revocations; a list that fails leaves the stored one in place."""
    try:
        results = partners.sync(deployment_id, file)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None
    for result in results:
        state = "ok" if result["ok"] else f"FAILED {result['error']}: {result['message']} (stored list kept)"
        click.echo(f"{result['deployment_id']} {result['name']}: {state}; data as of {iso_local(result['synced_at'])}")
    if not results:
        click.echo("no partners (flask trust add)")
    failed = [result for result in results if not result["ok"]]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} partners not refreshed")


@trust_cli.command("list")
def list_partners():
    """Each partner with the time and age of its trust data (STALE past TRUST_STALE_HOURS) and the last error."""
    shown = partners.status()
    for partner in shown:
        stale = "  STALE: scans of its certificates are 复核" if partner["stale"] else ""
        keys = ", ".join(f"{count} {use}" for use, count in partner["keys"].items())
        click.echo(f"{partner['deployment_id']}  {partner['name']}  synced {iso_local(partner['synced_at'])} "
                   f"({partner['age_hours']} h ago){stale}")
        click.echo(f"    fingerprint {partner['fingerprint']}  source {partner['source']}")
        click.echo(f"    counties: {_counties(partner['counties'])}")
        click.echo(f"    keys: {keys}; revoked certificates: {partner['revoked']}")
        if partner["last_error"]:
            click.echo(f"    last attempt {iso_local(partner['last_attempt_at'])} failed: {partner['last_error']}")
    if not shown:
        click.echo("no partners (flask trust add)")
    fingerprint = trust.root_fingerprint()
    click.echo(f"this deployment's root fingerprint: {fingerprint or 'none yet (flask keys ensure)'}")


@trust_cli.command("remove")
@click.argument("deployment_id")
def remove(deployment_id):
    """Stop recognising a partner: refused online (unknown_issuer) from now on; offline bundles until stale."""
    try:
        partner = partners.remove(deployment_id)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None
    click.echo(f"removed {partner.deployment_id} {partner.name}")


def _counties(codes):
    return " ".join(codes) if codes else "none (its certificates are refused: county_not_allowed)"
