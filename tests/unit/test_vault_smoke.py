from ballast.constants import DEAD_SHARES


def test_seed__first_join__mints_value_minus_dead(stack, alice):
    shares = stack.seed(alice, 1_000_000)
    assert stack.vault.totalSupply() == shares + DEAD_SHARES
    assert abs(stack.lens.total_value(stack.vault) - 10**24) < 10**20
