import ape

def test_probe(stack, chain, alice, project, owner):
    vault = stack.vault
    a = stack.tokens[0]
    print("latest", chain.blocks.head.timestamp, "pending", chain.pending_timestamp)
    p = vault.price(a)
    print("price", p)
    stack.feeds[0].set_answer(0, sender=owner)
    try:
        vault.price(a)
        print("NO REVERT on view")
    except Exception as e:
        print("view revert", type(e), e)
    with ape.reverts("pricing: bad answer"):
        vault.price(a)
    stack.feeds[0].set_answer(10**8, sender=owner)
    chain.pending_timestamp += 86_401
    try:
        print("after pending ts price", vault.price(a))
    except Exception as e:
        print("stale on view", e)
    chain.mine()
    try:
        print("after mine price", vault.price(a))
    except Exception as e:
        print("stale after mine", e)
    with ape.reverts("vault: too few assets"):
        project.Vault.deploy("x", "x", [], (1, 1, 10**17, 1, 1), (1, 1, 1, 1, 1), 0, sender=owner)
    r = vault.observe.call()
    print("observe call", r)
    tx = vault.set_role(alice, 1, sender=owner)
    print("rv", tx.return_value, tx.events)
    ev = tx.events.filter(vault.RoleSet)[0]
    print(ev, ev.account, type(ev.account), ev.account == alice)
