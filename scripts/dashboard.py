"""ape run dashboard: the depositors' page for a vault, served on 127.0.0.1 (ballast/dashboard/).

make node                                                   # a persistent anvil with the demo's vault
ape run dashboard --network ethereum:local:foundry          # then open http://127.0.0.1:8000
"""

import click
from ape.cli import ConnectedProviderCommand

from ballast.checks import click_callback, click_errors, require_address, require_range
from ballast.depositor.target import DEPLOYMENTS, resolve


def _address(name: str, help: str):
    return click.option(
        f"--{name}",
        default=None,
        callback=click_callback(lambda value: None if value is None else require_address(value, f"--{name}")),
        help=help,
    )


@click.command(cls=ConnectedProviderCommand)
@_address("vault", "Vault (default: deployments/<network>.json).")
@_address("lens", "VaultLens (default: the record's).")
@_address("factory", "VaultFactory that must have made the vault (default: the record's).")
@click.option("--deployments", default=str(DEPLOYMENTS), show_default=True, help="Deployment records folder.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port on 127.0.0.1.")
def cli(provider, vault, lens, factory, deployments, port):
    """Serve the dashboard of a Ballast vault until Ctrl-C."""
    from ape import project

    from ballast.dashboard.server import Dashboard

    with click_errors():
        require_range(port, "--port", 1024, 65535)
        target = resolve(project, provider, vault, lens, factory, deployments)
        server = Dashboard(target, provider, port)
    relay = "node accounts relayed" if server.relay else "browser wallet only (not a local chain)"
    click.echo(
        f"dashboard of vault {target.vault.address} on {target.network}: {server.url} ({relay}); Ctrl-C stops it"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
