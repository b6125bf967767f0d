# pragma version 0.4.3
# pragma optimize codesize
"""
@title Ballast vault factory
@custom:contract-name VaultFactory
@notice Creates Ballast vaults from one blueprint (EIP-5202,
        `create_from_blueprint`) and keeps a registry of the vaults it made.
        One call deploys a vault and configures it completely (feeds,
        bands, targets, trigger, limits, haircut, venues, keeper, guardian)
        before ownership passes to the operator, so no one can enter a
        half-configured vault. Yearn V3's VaultFactory is the example.
@dev The factory is the vault's owner only inside `deploy_vault`; it keeps
     no power over any vault afterwards. Every input is checked by the
     vault's own setters, which revert with their reasons.
"""

from interfaces import IVault
from contracts.modules import constants

# Most venues one deployment whitelists.
MAX_VENUES: constant(uint256) = 16

# The blueprint every vault is created from.
VAULT_BLUEPRINT: public(immutable(address))
# The shared `Rules` contract every vault it creates runs its pure rules in.
RULES: public(immutable(address))

# Number of vaults this factory made, and each by its index (0-based).
vault_count: public(uint256)
vaults: public(HashMap[uint256, address])
# Whether this factory made `vault`.
is_vault: public(HashMap[address, bool])


event VaultDeployed:
    vault: indexed(address)
    deployer: indexed(address)
    owner: indexed(address)
    index: uint256
    name: String[25]
    symbol: String[5]


@deploy
def __init__(vault_blueprint: address, rules_contract: address):
    """
    @notice A factory over the vault blueprint at `vault_blueprint`, whose
            vaults use the `Rules` contract at `rules_contract`.
    @param vault_blueprint An EIP-5202 blueprint of `Vault.vy`'s initcode.
    @param rules_contract A deployed `Rules.vy`.
    """
    assert vault_blueprint.codesize > 0, "factory: no blueprint"
    assert rules_contract.codesize > 0, "factory: no rules"
    VAULT_BLUEPRINT = vault_blueprint
    RULES = rules_contract


@external
def deploy_vault(
    name: String[25],
    symbol: String[5],
    asset_configs: DynArray[IVault.AssetConfig, constants.MAX_ASSETS],
    trigger: IVault.TriggerConfig,
    limits: IVault.Limits,
    entry_haircut_bps: uint256,
    venues: DynArray[address, MAX_VENUES],
    keeper: address,
    guardian: address,
    owner: address,
) -> address:
    """
    @notice Creates a vault and configures it in this one call.
    @param name Share token name.
    @param symbol Share token symbol.
    @param asset_configs Per asset: token, price feed, heartbeat, exclusive
           answer bounds, target weight, drift band and outer band (bps).
    @param trigger Trigger family and its clock and volatility parameters.
    @param limits Slippage, cost, turnover and cooldown limits.
    @param entry_haircut_bps Haircut on single-asset deposits.
    @param venues Venues the keeper may trade on.
    @param keeper Account given the keeper and allocator roles (none if empty).
    @param guardian Account given the guardian role (none if empty).
    @param owner The vault's owner once configured.
    @return address The new vault.
    """
    assert owner != empty(address), "factory: zero owner"
    basket_assets: DynArray[address, constants.MAX_ASSETS] = []
    targets: DynArray[uint256, constants.MAX_ASSETS] = []
    for config: IVault.AssetConfig in asset_configs:
        basket_assets.append(config.asset)
        targets.append(config.target_bps)
    vault: address = create_from_blueprint(VAULT_BLUEPRINT, name, symbol, basket_assets, RULES)
    v: IVault = IVault(vault)
    for config: IVault.AssetConfig in asset_configs:
        extcall v.set_feed(config.asset, config.feed, config.heartbeat, config.min_answer, config.max_answer)
        extcall v.set_bands(config.asset, config.band_bps, config.outer_band_bps)
    # The vault is empty, so its targets take effect at once.
    extcall v.set_target_weights(targets, 0)
    extcall v.set_trigger(trigger)
    extcall v.set_limits(limits)
    extcall v.set_entry_haircut(entry_haircut_bps)
    for venue: address in venues:
        extcall v.set_venue(venue, True)
    if keeper != empty(address):
        extcall v.set_role(keeper, constants.ROLE_KEEPER | constants.ROLE_ALLOCATOR | self._guardian_bit(keeper, guardian))
    if guardian != empty(address) and guardian != keeper:
        extcall v.set_role(guardian, constants.ROLE_GUARDIAN)
    extcall v.transfer_ownership(owner)

    index: uint256 = self.vault_count
    self.vaults[index] = vault
    self.vault_count = index + 1
    self.is_vault[vault] = True
    log VaultDeployed(vault=vault, deployer=msg.sender, owner=owner, index=index, name=name, symbol=symbol)
    return vault


@internal
@pure
def _guardian_bit(keeper: address, guardian: address) -> uint256:
    """
    @dev A keeper that is also the guardian gets both roles in one call.
    """
    if keeper == guardian:
        return constants.ROLE_GUARDIAN
    return 0
