"""Bad input to every shipped command is refused before the first transaction, with one exact line.

Each test runs the command (click's ``CliRunner`` in this process, on ape's test chain, so the
chain can be inspected afterwards) or its start-up function, and checks the message, the exit
status, that no traceback is printed, and that nothing was sent (chain height and nonce).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ballast.chain.deploy import deploy_factory

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "specs" / "demo.yaml"
NO_CODE = "0x1111111111111111111111111111111111111111"


def _script(name: str):
    """The ``cli`` command of ``scripts/<name>.py`` (the scripts folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"ballast_script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


@pytest.fixture(scope="module")
def deploy_cli():
    return _script("deploy")


@pytest.fixture(scope="module")
def keeper_cli():
    return _script("keeper")


@pytest.fixture
def chain_state(chain, accounts):
    """``chain_state()``: the chain height and the test accounts' nonces; equal before and after = nothing sent."""
    return lambda: (chain.blocks.height, [a.nonce for a in accounts[:6]])


def run(cli, args: list[str]):
    result = CliRunner().invoke(cli, [*args, "--network", "ethereum:local:test"], catch_exceptions=False)
    return result, result.output


def assert_refused(result, message: str, exit_code: int = 1):
    assert result.exit_code == exit_code, result.output
    assert result.output.strip().splitlines()[-1] == message
    assert "Traceback" not in result.output


def write_spec(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def existing(data: dict, addresses: list[str], venues: list[str]) -> None:
    """Turn the demo spec into one over existing tokens (feeds = the same addresses) and venues
    (its local market dropped: such a vault creates no pools)."""
    for asset, address in zip(data["assets"], addresses):
        asset.update(address=address, feed=address)
    data["venues"] = venues
    data.pop("market")


# ---------------------------------------------------------------- ape run deploy


def test_deploy__negative_band__refused_before_any_transaction(deploy_cli, tmp_path, chain_state):
    # Fails with `gt=0` removed from AssetModel.band_bps in ballast/spec.py (checked: the CLI then
    # deploys the 4 mock tokens and dies in eth_abi, exit 1 with a traceback and the chain height grows).
    path = write_spec(tmp_path, lambda d: d["assets"][2].update(band_bps=-250))
    before = chain_state()
    result, _ = run(deploy_cli, ["--spec", str(path), "--account", "TEST::0", "--out", str(tmp_path / "d")])
    assert_refused(result, f"Error: {path}: assets[2].band_bps: must be > 0, got -250")
    assert chain_state() == before
    assert not (tmp_path / "d").exists()


def test_deploy__negative_weight__refused_before_any_transaction(deploy_cli, tmp_path, chain_state):
    # Fails with `ge=0` removed from AssetModel.target_bps (checked: ValueOutOfBounds after deploying).
    def weights(data):
        for asset, w in zip(data["assets"], (5000, 4000, 2000, -1000)):
            asset["target_bps"] = w

    path = write_spec(tmp_path, weights)
    before = chain_state()
    result, _ = run(deploy_cli, ["--spec", str(path), "--account", "TEST::0"])
    assert_refused(result, f"Error: {path}: assets[3].target_bps: must be >= 0, got -1000")
    assert chain_state() == before


def test_deploy__demo_spec__deploys_and_records(deploy_cli, tmp_path, chain_state):
    """The control: a good spec gets past every check, and chain_state() does see the deployment."""
    before = chain_state()
    result, output = run(deploy_cli, ["--account", "TEST::0", "--out", str(tmp_path)])
    assert result.exit_code == 0, output
    assert output.splitlines()[-1] == f"recorded in {tmp_path / 'local.json'}"
    assert chain_state() != before
    entry = json.loads((tmp_path / "local.json").read_text())["local"]
    assert output.splitlines()[-3] == f"lens {entry['lens']} (ape run keeper --lens)"
    assert output.splitlines()[-2] == f"factory {entry['factory']}"


def test_deploy__existing_factory__creates_the_vault_with_it(deploy_cli, tmp_path, project, owner):
    factory = deploy_factory(project, owner)
    count = factory.vault_count()
    result, output = run(deploy_cli, ["--account", "TEST::0", "--out", str(tmp_path), "--factory", str(factory)])
    assert result.exit_code == 0, output
    entry = json.loads((tmp_path / "local.json").read_text())["local"]
    assert entry["factory"] == factory.address and factory.vault_count() == count + 1
    assert factory.vaults(count) == entry["vault"] and factory.is_vault(entry["vault"])


def test_deploy__token_as_factory__refused(deploy_cli, stack, chain_state):
    token = str(stack.tokens[0].address)
    before = chain_state()
    result, _ = run(deploy_cli, ["--account", "TEST::0", "--factory", token])
    assert_refused(result, f"Error: --factory: {token} is not a VaultFactory (its VAULT_BLUEPRINT() call failed)")
    assert chain_state() == before


def test_deploy__missing_spec_file__one_line(deploy_cli, tmp_path, chain_state):
    # Fails with load_spec's `except OSError` removed (a FileNotFoundError traceback).
    path = tmp_path / "nope.yaml"
    before = chain_state()
    result, _ = run(deploy_cli, ["--spec", str(path), "--account", "TEST::0"])
    assert_refused(result, f"Error: {path}: cannot read the spec file: No such file or directory")
    assert chain_state() == before


def test_deploy__unknown_account__ape_refuses(deploy_cli, chain_state):
    # ape's account_option does this check (unchanged by this project).
    before = chain_state()
    result, _ = run(deploy_cli, ["--account", "nobody"])
    assert_refused(result, "Error: Invalid value for '--account': Account with alias 'nobody' not found.", 2)
    assert chain_state() == before


def test_deploy__malformed_keeper__refused(deploy_cli, chain_state):
    # Fails with the --keeper callback removed from scripts/deploy.py (checked; it deploys, then set_role fails).
    before = chain_state()
    result, _ = run(deploy_cli, ["--account", "TEST::0", "--keeper", "0x12"])
    assert_refused(result, "Error: --keeper: must be an address (0x and 40 hex digits), got '0x12'")
    assert chain_state() == before


def test_deploy__out_is_a_file__refused(deploy_cli, tmp_path, chain_state):
    # Fails with the --out callback removed (deploys everything, then cannot record it).
    out = tmp_path / "file"
    out.write_text("x")
    before = chain_state()
    result, _ = run(deploy_cli, ["--account", "TEST::0", "--out", str(out)])
    assert_refused(result, f"Error: --out: {str(out)!r} exists and is not a folder")
    assert chain_state() == before


def test_deploy__corrupt_deployment_record__refused(deploy_cli, tmp_path, chain_state):
    # Fails with read_deployments() not called before deploying in scripts/deploy.py (checked).
    (tmp_path / "local.json").write_text("{not json")
    before = chain_state()
    result, _ = run(deploy_cli, ["--account", "TEST::0", "--out", str(tmp_path)])
    assert_refused(
        result,
        f"Error: --out: cannot read the deployment record {str(tmp_path / 'local.json')!r}: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    )
    assert chain_state() == before


def test_deploy__existing_asset_without_code__refused(deploy_cli, stack, tmp_path, chain_state):
    # Fails with check_existing_contracts() not called (checked: the vault constructor reverts).
    tokens = [str(t.address) for t in stack.tokens]
    path = write_spec(tmp_path, lambda d: existing(d, [NO_CODE, *tokens[1:]], [str(stack.venue.address)]))
    before = chain_state()
    result, _ = run(deploy_cli, ["--spec", str(path), "--account", "TEST::0"])
    assert_refused(result, f"Error: {path}: assets[0].address: no contract at {NO_CODE} on ethereum:local:test")
    assert chain_state() == before


def test_deploy__existing_asset_not_a_token__refused(deploy_cli, stack, tmp_path, chain_state):
    # Fails with check_existing_contracts() not called (checked: the vault constructor reverts).
    venue = str(stack.venue.address)
    tokens = [str(t.address) for t in stack.tokens]
    path = write_spec(tmp_path, lambda d: existing(d, [venue, *tokens[1:]], [venue]))
    before = chain_state()
    result, _ = run(deploy_cli, ["--spec", str(path), "--account", "TEST::0"])
    message = f"assets[0].address: {venue} is not an ERC-20 token (its decimals() call failed)"
    assert_refused(result, f"Error: {path}: {message}")
    assert chain_state() == before


# ---------------------------------------------------------------- ape run keeper


@pytest.fixture
def keeper_args(stack):
    vault, venue, lens = str(stack.vault.address), str(stack.venue.address), str(stack.lens.address)
    return ["--account", "TEST::1", "--vault", vault, "--venue", venue, "--lens", lens]


def test_keeper__valid_input__previews(keeper_cli, keeper_args, chain_state):
    """The control: good input gets past every check (and a dry run sends nothing)."""
    before = chain_state()
    result, output = run(keeper_cli, keeper_args)
    assert result.exit_code == 0, output
    assert "decision: wait" in output
    assert chain_state() == before


def test_keeper__without_a_lens__refused(keeper_cli, keeper_args, chain_state):
    before = chain_state()
    result, output = run(keeper_cli, keeper_args[:-2])
    assert result.exit_code != 0 and "Missing option '--lens'" in output
    assert chain_state() == before


def test_keeper__token_as_lens__refused(keeper_cli, keeper_args, stack, chain_state):
    # Fails with require_lens() removed from scripts/keeper.py (an ape error on snapshot).
    token = str(stack.tokens[0].address)
    before = chain_state()
    result, _ = run(keeper_cli, [*keeper_args, "--lens", token])
    assert_refused(result, f"Error: --lens: {token} is not a VaultLens (its max_assets() call failed)")
    assert chain_state() == before


def test_keeper__malformed_vault__refused(keeper_cli, chain_state):
    # Fails with the --vault callback removed (ape's "Unknown address value" traceback).
    before = chain_state()
    result, _ = run(keeper_cli, ["--account", "TEST::1", "--vault", "0x12"])
    assert_refused(result, "Error: --vault: must be an address (0x and 40 hex digits), got '0x12'")
    assert chain_state() == before


def test_keeper__bad_checksum_vault__refused(keeper_cli, stack):
    # Fails with the checksum rule removed from ballast/checks.py address_problem (checked).
    address = str(stack.vault.address)
    wrong = address[:2] + address[2:].swapcase()
    result, _ = run(keeper_cli, ["--account", "TEST::1", "--vault", wrong])
    assert_refused(result, f"Error: --vault: must be checksummed ({address}) or all lowercase, got {wrong!r}")


def test_keeper__vault_without_code__refused(keeper_cli, chain_state):
    # Fails with require_code() removed from require_instance (the get_assets() probe says "not a vault").
    before = chain_state()
    result, _ = run(keeper_cli, ["--account", "TEST::1", "--vault", NO_CODE, "--lens", NO_CODE])
    assert_refused(result, f"Error: --vault: no contract at {NO_CODE} on ethereum:local:test")
    assert chain_state() == before


def test_keeper__token_as_vault__refused(keeper_cli, stack, chain_state):
    # Fails with require_vault() replaced by project.Vault.at() (checked: a ContractLogicError traceback).
    token = str(stack.tokens[0].address)
    before = chain_state()
    result, _ = run(keeper_cli, ["--account", "TEST::1", "--vault", token, "--lens", token])
    assert_refused(result, f"Error: --vault: {token} is not a Ballast vault (its get_assets() call failed)")
    assert chain_state() == before


def test_keeper__venue_not_allowed__refused(keeper_cli, stack, project, owner, chain_state):
    # Fails with require_allowed_venue() removed from scripts/keeper.py.
    other = owner.deploy(project.ConstantProductAMM, 30)
    vault = str(stack.vault.address)
    before = chain_state()
    args = ["--account", "TEST::1", "--vault", vault, "--venue", str(other.address), "--lens", vault]
    result, _ = run(keeper_cli, args)
    assert_refused(result, f"Error: --venue: venue {other.address} is not allowed by vault {vault} (see set_venue)")
    assert chain_state() == before


def test_keeper__account_without_role__refused(keeper_cli, keeper_args, accounts, stack, chain_state):
    # Fails with require_role() removed from scripts/keeper.py (checked).
    args = ["--account", "TEST::3", *keeper_args[2:]]
    before = chain_state()
    result, _ = run(keeper_cli, args)
    message = (
        f"Error: --account: {accounts[3].address} does not hold the keeper role on vault {stack.vault.address} "
        "(the owner grants it with set_role)"
    )
    assert_refused(result, message)
    assert chain_state() == before


def test_keeper__slippage_out_of_range__refused(keeper_cli, keeper_args, chain_state):
    # Fails with the --slippage-bps callback removed (planner gets MAX_BPS - 20000 < 0).
    before = chain_state()
    result, _ = run(keeper_cli, [*keeper_args, "--slippage-bps", "20000"])
    assert_refused(result, "Error: --slippage-bps: must be >= 0 and <= 10000, got 20000")
    assert chain_state() == before


# ---------------------------------------------------------------- the keeper bot's start-up


@pytest.fixture
def bot_env(stack):
    feeds = ",".join(str(f.address) for f in stack.feeds)
    return {
        "BALLAST_VAULT": str(stack.vault.address),
        "BALLAST_LENS": str(stack.lens.address),
        "BALLAST_VENUES": str(stack.venue.address),
        "BALLAST_FEEDS": feeds,
        "BALLAST_KEEPER": "TEST::1",
    }


def bot_refusal(project, env: dict) -> str:
    from ballast.bot import loop_from_env
    from ballast.checks import InputError

    with pytest.raises(InputError) as err:
        loop_from_env(project, env)
    return str(err.value)


def test_bot__valid_env__builds_the_loop(project, bot_env, accounts):
    """The control: the fixture's environment passes every check."""
    from ballast.bot import loop_from_env

    loop = loop_from_env(project, bot_env)
    assert loop.keeper.address == accounts[1].address
    assert len(loop.feeds) == 4 and loop.slippage_bps is None and not loop.observe


@pytest.mark.parametrize(
    "change, message",
    [
        # Each fails with the named check removed from ballast/bot.py loop_from_env.
        ({"BALLAST_VAULT": ""}, "BALLAST_VAULT is not set: the address of the vault to keep"),  # require_env
        ({"BALLAST_VENUES": " "}, "BALLAST_VENUES is not set: the venues to trade on, comma-separated"),
        ({"BALLAST_VENUES": " , "}, "BALLAST_VENUES: at least one address is required, got ','"),
        ({"BALLAST_VAULT": "vault"}, "BALLAST_VAULT: must be an address (0x and 40 hex digits), got 'vault'"),
        ({"BALLAST_VAULT": NO_CODE}, f"BALLAST_VAULT: no contract at {NO_CODE} on ethereum:local:test"),
        ({"BALLAST_KEEPER": "nobody"}, "BALLAST_KEEPER: no ape account with alias 'nobody' (see 'ape accounts list')"),
        ({"BALLAST_KEEPER": "TEST::99"}, "BALLAST_KEEPER: no test account 'TEST::99' (TEST::0 to TEST::9)"),
        ({"BALLAST_LENS": "lens"}, "BALLAST_LENS: must be an address (0x and 40 hex digits), got 'lens'"),
        ({"BALLAST_LENS": ""}, "BALLAST_LENS is not set: the address of a VaultLens, which reads the vault"),
        ({"BALLAST_SLIPPAGE_BPS": "1%"}, "BALLAST_SLIPPAGE_BPS: must be an integer, got '1%'"),
        ({"BALLAST_SLIPPAGE_BPS": "-5"}, "BALLAST_SLIPPAGE_BPS: must be >= 0 and <= 10000, got -5"),
        ({"BALLAST_MIN_TRADE_USD": "-1"}, "BALLAST_MIN_TRADE_USD: must be >= 0, got -1.0"),
        (
            {"BALLAST_OBSERVE": "maybe"},
            "BALLAST_OBSERVE: must be one of '', '0', 'false', 'no', '1', 'true', 'yes', got 'maybe'",
        ),
        (
            {"BALLAST_VENUES": f"{NO_CODE},{NO_CODE.lower()}"},
            f"BALLAST_VENUES[1]: duplicate address {NO_CODE} (also BALLAST_VENUES[0])",
        ),
    ],
    ids=lambda v: next(iter(v)) + "=" + repr(next(iter(v.values()))) if isinstance(v, dict) else "",
)
def test_bot__bad_env__one_sentence(project, bot_env, chain_state, change, message):
    before = chain_state()
    assert bot_refusal(project, {**bot_env, **change}) == message
    assert chain_state() == before


def test_bot__auction__a_dutch_auction_of_this_vault_only(project, owner, stack, make_stack, lens, bot_env):
    """BALLAST_AUCTION: a DutchAuction selling for this vault is taken; a token, or another vault's
    auction, is refused in one sentence before the loop exists."""
    from ballast.auction import deploy_auction
    from ballast.bot import loop_from_env

    auction = deploy_auction(project, owner, stack.vault, lens)
    assert (
        loop_from_env(project, {**bot_env, "BALLAST_AUCTION": str(auction.address)}).auction.address == auction.address
    )
    token = str(stack.tokens[0].address)
    assert bot_refusal(project, {**bot_env, "BALLAST_AUCTION": token}) == (
        f"BALLAST_AUCTION: {token} is not a DutchAuction (its END_MULTIPLIER() call failed)"
    )
    other = make_stack()
    foreign = deploy_auction(project, owner, other.vault, lens)
    assert bot_refusal(project, {**bot_env, "BALLAST_AUCTION": str(foreign.address)}) == (
        f"BALLAST_AUCTION: {foreign.address} sells for vault {other.vault.address}, not {stack.vault.address}"
    )


def test_bot__lens__reads_the_state_through_it(project, owner, bot_env):
    from ballast.bot import loop_from_env

    lens = project.VaultLens.deploy(sender=owner)
    loop = loop_from_env(project, {**bot_env, "BALLAST_LENS": str(lens.address)})
    assert loop.lens.address == lens.address
    assert loop.on_tick(0).action != "error"


def test_bot__token_as_lens__refused(project, stack, bot_env):
    # Fails with require_lens() removed from loop_from_env.
    token = str(stack.tokens[0].address)
    message = bot_refusal(project, {**bot_env, "BALLAST_LENS": token})
    assert message == f"BALLAST_LENS: {token} is not a VaultLens (its max_assets() call failed)"


def test_bot__token_as_vault__refused(project, stack, bot_env):
    # Fails with require_vault() replaced by project.Vault.at() in loop_from_env.
    token = str(stack.tokens[0].address)
    message = bot_refusal(project, {**bot_env, "BALLAST_VAULT": token})
    assert message == f"BALLAST_VAULT: {token} is not a Ballast vault (its get_assets() call failed)"


def test_bot__token_as_venue__refused(project, stack, bot_env):
    # Fails with require_venue() replaced by project.ConstantProductAMM.at().
    token = str(stack.tokens[0].address)
    message = bot_refusal(project, {**bot_env, "BALLAST_VENUES": token})
    probes = "pool_id(), fee(), pair_init_code_hash(), MAX_FEE_BPS()"
    assert message == f"BALLAST_VENUES[0]: {token} is not a Ballast venue (none of {probes} answered)"


def test_bot__venue_not_allowed__refused(project, stack, owner, bot_env):
    # Fails with require_allowed_venue() removed from loop_from_env (checked).
    other = owner.deploy(project.ConstantProductAMM, 30)
    message = bot_refusal(project, {**bot_env, "BALLAST_VENUES": str(other.address)})
    vault = stack.vault.address
    assert message == f"BALLAST_VENUES[0]: venue {other.address} is not allowed by vault {vault} (see set_venue)"


def test_bot__wrong_number_of_feeds__refused(project, stack, bot_env):
    # Fails with the feed count check removed.
    feeds = ",".join(str(f.address) for f in stack.feeds[:3])
    message = bot_refusal(project, {**bot_env, "BALLAST_FEEDS": feeds})
    assert message == "BALLAST_FEEDS: must list one feed per asset (4, in basket order), got 3"


def test_bot__keeper_without_role__refused(project, stack, accounts, bot_env):
    # Fails with require_role() removed (each rebalance would revert "vault: not keeper").
    message = bot_refusal(project, {**bot_env, "BALLAST_KEEPER": "TEST::3"})
    assert message == (
        f"BALLAST_KEEPER: {accounts[3].address} does not hold the keeper role on vault {stack.vault.address} "
        "(the owner grants it with set_role)"
    )


# ---------------------------------------------------------------- ape run bench


def test_bench__unknown_network__refused_before_the_throughput_run(chain_state):
    # Fails with require_network() moved back after ape_local_tps (checked: the throughput run goes first).
    before = chain_state()
    result = CliRunner().invoke(_script("bench"), ["--network", "ethereum:nope:foundry"], catch_exceptions=False)
    assert_refused(
        result,
        "Error: --network: 'ethereum:nope:foundry' is not a configured ape network "
        "(No network in 'ethereum' named 'nope'; see 'ape networks list')",
    )
    assert "Throughput" not in result.output
    assert chain_state() == before


def test_bench__output_folder_missing__refused(tmp_path):
    # Fails with require_folder_for(output) removed (BENCHMARKS.md is written after minutes of work).
    output = tmp_path / "no" / "B.md"
    result = CliRunner().invoke(_script("bench"), ["--output", str(output)], catch_exceptions=False)
    assert_refused(
        result, f"Error: --output: cannot write {str(output)!r}: folder {str(output.parent)!r} does not exist"
    )


# ---------------------------------------------------------------- ape run backtest / python -m ballast.backtest


@pytest.mark.parametrize(
    "args, message",
    [
        # Each fails with the matching line removed from ballast/backtest.py _check_args (checked: --csv).
        (["--model", "csv", "--csv", "missing.csv"], "--csv: cannot read 'missing.csv': No such file or directory"),
        (["--paths", "0"], "--paths: must be >= 1, got 0"),
        (["--fraction", "1.5"], "--fraction: must be > 0 and <= 1, got 1.5"),
        (["--band-bps", "0"], "--band-bps: must be > 0 and <= 10000, got 0.0"),
        (["--weights", "5000,4000,2000,-1000"], "--weights[3]: must be > 0 and <= 10000, got -1000"),
        (["--weights", "5000,4000,1000,1"], "--weights: must sum to 10000, got 10001"),
        (["--vols", "0.05,0.6,0.8,-1"], "--vols[3]: must be > 0, got -1.0"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_backtest__bad_option__one_line_exit_2(args, message, capsys):
    from ballast.backtest import main

    with pytest.raises(SystemExit) as exit_:
        main([*args, "--quiet"], prog="ape run backtest")
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.strip().splitlines()[-1] == f"ape run backtest: error: {message}"
    assert "Traceback" not in err


def test_backtest__script_passes_the_exit_status(tmp_path):
    # scripts/backtest.py: the same check through the ape script's click wrapper.
    afile = tmp_path / "file"
    afile.write_text("x")
    result = CliRunner().invoke(_script("backtest"), ["--out", str(afile)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_bot_module__bad_env__exits_with_one_line(monkeypatch, chain_state):
    # bots/keeper.py (what `silverback run bots.keeper:bot` imports): fails with its try/except
    # InputError removed (checked: the import then raises a ValueError with a traceback).
    import importlib

    monkeypatch.setenv("BALLAST_VAULT", "0x12")
    monkeypatch.setenv("BALLAST_VENUES", NO_CODE)
    monkeypatch.delitem(sys.modules, "bots.keeper", raising=False)
    before = chain_state()
    with pytest.raises(SystemExit) as exit_:
        importlib.import_module("bots.keeper")
    assert exit_.value.code == "Ballast keeper: BALLAST_VAULT: must be an address (0x and 40 hex digits), got '0x12'"
    assert chain_state() == before
