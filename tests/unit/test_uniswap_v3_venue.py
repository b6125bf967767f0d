"""UniswapV3Venue against the real Uniswap V3 factory and pools (``@uniswap/v3-core@1.0.1``'s
bytecode), QuoterV2 and SwapRouter (``@uniswap/v3-periphery@1.4.4``), and the pure-Python port of
the pool's swap math (``ballast.venues.uniswap_v3_math``) behind the planner's ``V3Pool`` snapshot."""

from dataclasses import replace

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballast.venues import uniswap_v3
from ballast.venues import uniswap_v3_math as v3

ZERO = "0x" + "00" * 20
PERIPHERY_POOL_INIT_CODE_HASH = "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
PRICE = 3_000 * 10**6 / 10**18  # USDC (6 decimals) per WETH (18 decimals), raw units
WORDS = 16  # tick-bitmap words read either side of the current tick's word
# Positions as (ticks below, ticks above) the start tick; None is the full range.
POSITIONS = ((None, 1_000 * 10**18), (600, 300 * 10**18), (3_000, 200 * 10**18), (1_200, 100 * 10**18))
SKEWED = ((-120, 2_400, 50 * 10**18), (-2_400, 60, 80 * 10**18))  # (lower, upper) offsets: one-sided too
WETH_SIZES = (10**9, 10**15, 10**17, 10**18, 7 * 10**18, 50 * 10**18, 300 * 10**18, 1_500 * 10**18)
USDC_SIZES = (1, 10**3, 10**6, 3 * 10**9, 2 * 10**10, 15 * 10**10, 9 * 10**11, 4 * 10**12)


@pytest.fixture(scope="module")
def v3env(project, owner, accounts, bob):  # bob: set up first, so ape's isolation does not rebuild this
    """A factory; a venue, a pool and five positions (ticks to cross) per fee tier; QuoterV2; SwapRouter."""
    weth = project.MockERC20.deploy("Wrapped Ether", "WETH", 18, sender=owner)
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=owner)
    lp = accounts[7]
    for token in (weth, usdc):
        token.mint(lp, 10**40, sender=owner)
    factory, _ = uniswap_v3.deploy_venue(project, owner, 3000)
    helper = uniswap_v3.deploy_liquidity_helper(project, factory, owner)
    quoter, router = uniswap_v3.deploy_periphery(factory, owner)
    venues, pools = {}, {}
    for fee in (100, 500, 3000, 10000):
        _, venues[fee] = uniswap_v3.deploy_venue(project, owner, fee, factory=factory)
        pools[fee] = pool = uniswap_v3.create_pool(factory, weth, usdc, fee, PRICE, owner)
        spacing = int(pool.tickSpacing())
        for ticks, weth_amount in POSITIONS:
            lo, hi = (
                (None, None) if ticks is None else uniswap_v3.ticks_around(pool, ticks // spacing, ticks // spacing)
            )
            _add(helper, pool, lp, weth, weth_amount, lo, hi)
        base = int(pool.slot0()[1]) // spacing * spacing
        for lower, upper, weth_amount in SKEWED:
            _add(
                helper,
                pool,
                lp,
                weth,
                weth_amount,
                base + lower // spacing * spacing,
                base + upper // spacing * spacing,
            )
    return dict(
        weth=weth, usdc=usdc, factory=factory, helper=helper, quoter=quoter, router=router, venues=venues, pools=pools
    )


def _add(helper, pool, lp, weth, weth_amount, lo, hi):
    """Add a position worth ``weth_amount`` WETH of each side at the pool's price."""
    usdc_amount = int(weth_amount * PRICE)
    amount0, amount1 = (weth_amount, usdc_amount) if pool.token0() == weth.address else (usdc_amount, weth_amount)
    return uniswap_v3.add_liquidity(helper, pool, lp, amount0, amount1, lo, hi)


@pytest.fixture
def trader(accounts, v3env, owner):
    trader = accounts[6]
    for token in (v3env["weth"], v3env["usdc"]):
        token.mint(trader, 10**36, sender=owner)
    return trader


def _pool_state(pool):
    slot0 = pool.slot0()
    return int(slot0[0]), int(slot0[1]), int(pool.liquidity())


def _swap_output(venue, tx):
    """The adapter's output, from its Swap event (the local provider gives no return values)."""
    (event,) = tx.events.filter(venue.Swap)
    return event.amount_out


def _push_swap(venue, token_in, token_out, amount, min_out, receiver, trader):
    """The vault's flow: send amount_in to payee, then call swap (two transactions here)."""
    payee = venue.payee(token_in, token_out)
    assert payee == venue.address
    token_in.transfer(payee, amount, sender=trader)
    return venue.swap(token_in, token_out, amount, min_out, receiver, sender=trader)


def test_pool_init_code_hash__is_the_periphery_constant():
    """PoolAddress.POOL_INIT_CODE_HASH in v3-periphery; a factory deployed from the artifact must match."""
    assert uniswap_v3.pool_init_code_hash().hex() == PERIPHERY_POOL_INIT_CODE_HASH
    source = uniswap_v3.artifacts.NODE_MODULES / "@uniswap/v3-periphery/contracts/libraries/PoolAddress.sol"
    assert "0x" + PERIPHERY_POOL_INIT_CODE_HASH in source.read_text()


@pytest.mark.parametrize("fee", (100, 500, 3000, 10000))
def test_pool_for__every_fee_tier__equals_the_factorys_pool(v3env, fee):
    venue, weth, usdc = v3env["venues"][fee], v3env["weth"], v3env["usdc"]
    assert venue.fee() == fee
    assert venue.pool_for(weth, usdc) == venue.pool_for(usdc, weth) == v3env["factory"].getPool(weth, usdc, fee)
    assert venue.pool_for(weth, usdc) == v3env["pools"][fee].address


def test_payee__pool_exists__is_the_adapter_else_empty(project, v3env, owner):
    venue, weth, usdc = v3env["venues"][3000], v3env["weth"], v3env["usdc"]
    stranger = project.MockERC20.deploy("X", "X", 18, sender=owner)
    assert venue.payee(weth, usdc) == venue.payee(usdc, weth) == venue.address
    assert venue.payee(stranger, usdc) == ZERO
    assert venue.payee(weth, weth) == ZERO


def test_pool_state__is_slot0_and_liquidity(v3env):
    venue, pool = v3env["venues"][500], v3env["pools"][500]
    assert tuple(venue.pool_state(v3env["weth"], v3env["usdc"])) == _pool_state(pool)


@pytest.mark.parametrize("fee", (500, 3000))
def test_swap__many_sizes_both_directions__python_equals_adapter_equals_quoter(v3env, trader, fee):
    """Alternating sells of growing size: the snapshot's quote, QuoterV2 and the adapter's fill agree
    to the wei, and the snapshot moved by ``apply`` equals the pool read after every swap."""
    venue, pool, quoter = v3env["venues"][fee], v3env["pools"][fee], v3env["quoter"]
    weth, usdc = v3env["weth"], v3env["usdc"]
    snap = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS)
    crossed = 0
    for weth_in, usdc_in in zip(WETH_SIZES, USDC_SIZES):
        for token_in, token_out, amount in ((weth, usdc, weth_in), (usdc, weth, usdc_in)):
            expected = snap.quote(token_in.address, amount)
            assert uniswap_v3.quote_exact_input_single(quoter, token_in, token_out, fee, amount) == expected
            crossed += snap.simulate(token_in.address, amount).ticks_crossed
            before = token_out.balanceOf(trader)
            tx = _push_swap(venue, token_in, token_out, amount, expected, trader, trader)
            assert _swap_output(venue, tx) == expected
            assert token_out.balanceOf(trader) - before == expected
            assert snap.apply(token_in.address, amount) == expected
            assert (snap.sqrt_price_x96, snap.tick, snap.liquidity) == _pool_state(pool)
            fresh = uniswap_v3.read_pool_state(pool, WORDS)
            assert (fresh.sqrt_price_x96, fresh.tick, fresh.liquidity) == _pool_state(pool)
    assert crossed >= 8, "the sizes should cross initialized ticks"
    assert weth.balanceOf(venue) == usdc.balanceOf(venue) == 0


@pytest.mark.parametrize("fee", (100, 10000))
def test_swap__other_fee_tiers__python_equals_adapter_equals_quoter(v3env, trader, fee):
    venue, pool, quoter = v3env["venues"][fee], v3env["pools"][fee], v3env["quoter"]
    weth, usdc = v3env["weth"], v3env["usdc"]
    for token_in, token_out, amount in ((weth, usdc, 40 * 10**18), (usdc, weth, 5 * 10**11), (weth, usdc, 10**16)):
        snap = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS)
        expected = snap.quote(token_in.address, amount)
        assert uniswap_v3.quote_exact_input_single(quoter, token_in, token_out, fee, amount) == expected
        tx = _push_swap(venue, token_in, token_out, amount, expected, trader, trader)
        assert _swap_output(venue, tx) == expected
        snap.apply(token_in.address, amount)
        assert (snap.sqrt_price_x96, snap.tick, snap.liquidity) == _pool_state(pool)


def test_swap__push_flow__receiver_gets_output_adapter_ends_empty_and_logs_swap(v3env, trader, bob):
    venue, weth, usdc = v3env["venues"][3000], v3env["weth"], v3env["usdc"]
    amount = 12 * 10**18
    expected = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS).quote(weth.address, amount)
    before_trader, before_bob = weth.balanceOf(trader), usdc.balanceOf(bob)
    tx = _push_swap(venue, weth, usdc, amount, expected, bob, trader)
    assert usdc.balanceOf(bob) - before_bob == expected
    assert before_trader - weth.balanceOf(trader) == amount
    assert weth.balanceOf(venue) == usdc.balanceOf(venue) == 0
    event = tx.events.filter(venue.Swap)[0]
    assert (event.sender, event.token_in, event.token_out) == (trader.address, weth.address, usdc.address)
    assert (event.amount_in, event.amount_out, event.receiver) == (amount, expected, bob.address)


def test_swap__min_out_equal_to_quote__succeeds_and_one_above__reverts(v3env, trader):
    venue, weth, usdc = v3env["venues"][3000], v3env["weth"], v3env["usdc"]
    amount = 900 * 10**18  # crosses ticks; its last unit is priced well below the fill's average
    expected = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS).quote(weth.address, amount)
    weth.transfer(venue, amount, sender=trader)
    with ape.reverts("uniswap_v3: insufficient output"):
        venue.swap(weth, usdc, amount, expected + 1, trader, sender=trader)
    assert _swap_output(venue, venue.swap(weth, usdc, amount, expected, trader, sender=trader)) == expected


def test_swap__min_out_above_the_start_price_value__reverts_before_the_pool(v3env, trader):
    """amount_in * (1 - fee) * P0 bounds any fill; a min_out above it is refused without a pool call."""
    venue, pool, weth, usdc = v3env["venues"][3000], v3env["pools"][3000], v3env["weth"], v3env["usdc"]
    amount = 10**18
    snap = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS)
    bound = int(snap.marginal_price(weth.address) * amount)
    weth.transfer(venue, amount, sender=trader)
    with ape.reverts("uniswap_v3: insufficient output"):
        venue.swap(weth, usdc, amount, bound * 1_001 // 1_000, trader, sender=trader)
    assert _pool_state(pool) == (snap.sqrt_price_x96, snap.tick, snap.liquidity)


def test_swap__pool_runs_out_of_liquidity__reverts_price_limit_reached(project, v3env, trader, owner, accounts):
    """A pool with one bounded position: a sale larger than the range holds walks the price to the
    limit with input left over; the adapter refuses the partial fill (and the planner's quote too)."""
    weth, lp = v3env["weth"], accounts[7]
    thin = project.MockERC20.deploy("Thin", "THIN", 18, sender=owner)
    thin.mint(lp, 10**30, sender=owner)
    thin.mint(trader, 10**30, sender=owner)
    venue = v3env["venues"][3000]
    pool = uniswap_v3.create_pool(v3env["factory"], thin, weth, 3000, 1.0, owner)
    lo, hi = uniswap_v3.ticks_around(pool, 5, 5)
    uniswap_v3.add_liquidity(v3env["helper"], pool, lp, 10**18, 10**18, lo, hi)
    snap = uniswap_v3.snapshot(venue, thin, weth, words=WORDS)
    snap.state = replace(snap.state, words=None)  # the bitmap read is complete: one position only
    amount = 10 * 10**18
    result = snap.simulate(thin.address, amount)
    assert 0 < result.amount_in < amount
    with pytest.raises(ValueError, match="price limit reached"):
        snap.quote(thin.address, amount)
    thin.transfer(venue, amount, sender=trader)
    with ape.reverts("uniswap_v3: price limit reached"):
        venue.swap(thin, weth, amount, 0, trader, sender=trader)


def test_price_limit__at_p_star__would_stop_a_fill_that_meets_min_out(v3env):
    """Why the adapter does not send P* = min_out / (amount_in (1 - fee)) as the pool's limit: with
    min_out = the exact quote, the pool stops at P* with input left (pure math on the snapshot)."""
    venue, weth, usdc = v3env["venues"][3000], v3env["weth"], v3env["usdc"]
    snap = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS)
    amount = 200 * 10**18
    min_out = snap.quote(weth.address, amount)
    zero_for_one = snap.token_a == weth.address
    fee_factor = (v3.FEE_DENOMINATOR - snap.fee) / v3.FEE_DENOMINATOR
    p_star = min_out / (amount * fee_factor)  # out per in
    p_star_token1_per_token0 = p_star if zero_for_one else 1 / p_star
    limit = v3.sqrt_price_x96_from_price(p_star_token1_per_token0)
    stopped = v3.swap_exact_input(snap.state, zero_for_one, amount, limit)
    assert stopped.amount_in < amount
    assert stopped.sqrt_price_x96 == limit


def test_swap__zero_amount__reverts(v3env, trader):
    with ape.reverts("uniswap_v3: zero amount"):
        v3env["venues"][3000].swap(v3env["weth"], v3env["usdc"], 0, 0, trader, sender=trader)


def test_swap__no_pool__reverts(project, v3env, trader, owner):
    stranger = project.MockERC20.deploy("X", "X", 18, sender=owner)
    venue = v3env["venues"][3000]
    assert uniswap_v3.snapshot(venue, stranger, v3env["usdc"]) is None
    with ape.reverts("uniswap_v3: no pool"):
        venue.swap(stranger, v3env["usdc"], 10**18, 0, trader, sender=trader)


def test_uniswap_v3_swap_callback__outside_a_swap__reverts_wrong_pool(v3env, trader):
    venue, weth = v3env["venues"][3000], v3env["weth"]
    weth.transfer(venue, 10**18, sender=trader)  # even with tokens to take
    with ape.reverts("uniswap_v3: wrong pool"):
        venue.uniswapV3SwapCallback(10**18, 0, b"", sender=trader)
    assert weth.balanceOf(venue) == 10**18


def test_uniswap_v3_swap_callback__from_a_non_pool_during_a_swap__reverts_wrong_pool(
    project, v3env, trader, owner, accounts
):
    """The input token reenters the adapter's callback while the adapter pays the pool."""
    weth, lp, venue = v3env["weth"], accounts[7], v3env["venues"][3000]
    evil = project.ReentrantToken.deploy("Evil", "EVIL", sender=owner)
    evil.mint(lp, 10**30, sender=owner)
    evil.mint(trader, 10**30, sender=owner)
    pool = uniswap_v3.create_pool(v3env["factory"], weth, evil, 3000, 1.0, owner)
    uniswap_v3.add_liquidity(v3env["helper"], pool, lp, 10**20, 10**20)
    evil.transfer(venue, 10**18, sender=trader)
    # The adapter pays the pool with evil.transfer; the hook then calls the callback from the token.
    evil.arm(venue, venue.uniswapV3SwapCallback.encode_input(10**18, 10**18, b""), sender=trader)
    with ape.reverts("uniswap_v3: wrong pool"):
        venue.swap(evil, weth, 10**18, 0, trader, sender=trader)


def test_deploy__zero_factory__reverts(project, owner):
    with ape.reverts("uniswap_v3: zero factory"):
        project.UniswapV3Venue.deploy(ZERO, uniswap_v3.pool_init_code_hash(), 3000, sender=owner)


def test_marginal_price__is_the_limit_of_small_quotes(v3env):
    snap = uniswap_v3.snapshot(v3env["venues"][500], v3env["weth"], v3env["usdc"], words=WORDS)
    weth, usdc = v3env["weth"].address, v3env["usdc"].address
    assert snap.quote(weth, 10**15) / 10**15 == pytest.approx(snap.marginal_price(weth), rel=1e-5)
    assert snap.quote(usdc, 10**6) / 10**6 == pytest.approx(snap.marginal_price(usdc), rel=1e-5)


def test_mint_callback__from_a_non_pool__reverts(v3env, trader):
    with ape.reverts("uniswap_v3_liquidity: wrong pool"):
        v3env["helper"].uniswapV3MintCallback(1, 1, b"", sender=trader)


_SNAPSHOTS = {}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(min_value=1, max_value=2_000 * 10**18),
    weth_in=st.booleans(),
    fee=st.sampled_from((500, 3000)),
)
def test_quote__any_size__equals_quoter_and_adapter_call(v3env, trader, size, weth_in, fee):
    """eth_call only (the pools do not move, so one snapshot per tier serves every example); the
    adapter is prefunded so `swap.call` needs no transfer."""
    venue, weth, usdc = v3env["venues"][fee], v3env["weth"], v3env["usdc"]
    token_in, token_out = (weth, usdc) if weth_in else (usdc, weth)
    amount = size if weth_in else max(1, size * 3_000 * 10**6 // 10**18)
    if token_in.balanceOf(venue) < amount:
        token_in.transfer(venue, 10**34, sender=trader)
    key = (fee, _pool_state(v3env["pools"][fee]))
    if key not in _SNAPSHOTS:
        _SNAPSHOTS[key] = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS)
    snap = _SNAPSHOTS[key]
    expected = snap.quote(token_in.address, amount)
    assert uniswap_v3.quote_exact_input_single(v3env["quoter"], token_in, token_out, fee, amount) == expected
    assert venue.swap.call(token_in, token_out, amount, expected, trader, sender=trader) == expected


def test_gas__adapter_vs_swap_router__printed(v3env, trader):
    """Not an assertion on gas: prints receipts' gasUsed for the same swap (run with -s)."""
    venue, router, weth, usdc = v3env["venues"][3000], v3env["router"], v3env["weth"], v3env["usdc"]
    amount = 5 * 10**18
    expected = uniswap_v3.snapshot(venue, weth, usdc, words=WORDS).quote(weth.address, amount)
    weth.approve(router, 2**256 - 1, sender=trader)
    chain_state = ape.chain.snapshot()
    push = weth.transfer(venue, amount, sender=trader)
    adapter = venue.swap(weth, usdc, amount, expected, trader, sender=trader)
    assert _swap_output(venue, adapter) == expected
    ape.chain.restore(chain_state)
    chain_state = ape.chain.snapshot()
    weth.transfer(venue, amount, sender=trader)
    unchecked = venue.swap(weth, usdc, amount, 0, trader, sender=trader)  # min_out 0: no start-price check
    assert _swap_output(venue, unchecked) == expected
    ape.chain.restore(chain_state)
    params = (weth.address, usdc.address, 3000, trader.address, 2**40, amount, expected, 0)
    before = usdc.balanceOf(trader)
    routed = router.exactInputSingle(params, sender=trader)
    assert usdc.balanceOf(trader) - before == expected
    print(
        f"\nGAS adapter swap {adapter.gas_used} + push transfer {push.gas_used} = "
        f"{adapter.gas_used + push.gas_used}; SwapRouter.exactInputSingle {routed.gas_used} "
        f"(approval made beforehand); same output {expected}; adapter swap with min_out 0 {unchecked.gas_used}"
    )


def test_uniswap_v3_swap_callback__pool_asks_more_than_amount_in__reverts_overpayment(project, v3env, trader, owner):
    """Even the pool the swap named is paid at most amount_in (a double at the CREATE2 address)."""
    from eth_hash.auto import keccak

    weth, usdc = v3env["weth"], v3env["usdc"]
    deployer = project.MockV3PoolDeployer.deploy(sender=owner)
    code = bytes.fromhex(project.MockOverchargingV3Pool.contract_type.deployment_bytecode.bytecode[2:])
    venue = project.UniswapV3Venue.deploy(deployer, keccak(code), 3000, sender=owner)
    token0, token1 = uniswap_v3.sort_tokens(weth, usdc)
    deployer.deploy(code, token0, token1, 3000, sender=owner)
    assert venue.payee(weth, usdc) == venue.address
    weth.transfer(venue, 3 * 10**18, sender=trader)  # enough to pay double
    with ape.reverts("uniswap_v3: overpayment"):
        venue.swap(weth, usdc, 10**18, 0, trader, sender=trader)


# ---------------------------------------------------------------- the planner's protocol, and a vault trading through it


def test_input_for_price__across_ticks__lands_on_that_marginal_price(v3env):
    """The splitter's closed form walks the initialized ticks: after that input, the next unit's
    output (the swap loop's own finite difference) is the asked price."""
    weth, usdc = v3env["weth"].address, v3env["usdc"].address
    pool = uniswap_v3.V3VenuePool(uniswap_v3.snapshot(v3env["venues"][3000], weth, usdc, words=WORDS))
    for token_in, token_out, fall in ((weth, usdc, 0.90), (usdc, weth, 0.93), (weth, usdc, 0.995)):
        target = pool.marginal_price(token_in, token_out) * fall
        x = int(pool.input_for_price(token_in, token_out, target))
        h = x // 1_000
        slope = (pool.quote(token_in, token_out, x + h) - pool.quote(token_in, token_out, x - h)) / (2 * h)
        assert slope == pytest.approx(target, rel=1e-4)


@pytest.fixture(scope="module")
def v3_stack(make_stack):
    """The default 4-asset vault trading on real V3 pools at 5 bps, every pair half full range and
    half within 10 % of the price."""
    return make_stack(venue_kind="uniswap_v3", fee_bps=5, depth_usd=20_000_000)


def test_rebalance__through_v3_pools__fills_exactly_as_planned(v3_stack, alice, keeper, accounts, chain):
    """The planner's snapshots of the real pools predict every fill to the wei; the vault pushes
    each input to the adapter, which pays the pool from its callback."""
    v3_stack.rebalance_after_rally(alice, keeper, accounts[7], chain)
