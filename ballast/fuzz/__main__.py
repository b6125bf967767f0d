"""``python -m ballast.fuzz``: the vault's state machine outside pytest, with a step budget of
your choice and a breakdown of rules and outcomes.

    python -m ballast.fuzz --examples 500 --steps 50 --random
    python -m ballast.fuzz --profile long                   # until interrupted
    python -m ballast.fuzz --budget 60                      # the CI profile, stopped after 60 s
    python -m ballast.fuzz --vault /tmp/Vault_mutant.vy --no-shrink
    python -m ballast.fuzz --sleeve /tmp/LendingSleeve_mutant.vy --no-shrink

The backend and the vault source are chosen before the stack is imported (``--evm``,
``--vault``, ``--sleeve``; or ``BALLAST_FUZZ_EVM``, ``BALLAST_FUZZ_VAULT``, ``BALLAST_FUZZ_SLEEVE``). The run ends with
``ballast.fuzz.machine.report()``, whose first line is the speed
(``... N examples, N steps in Xs = R steps/s ...``) that ``measure_steps_per_second`` reads.
Exit status 1 if an example failed, 0 otherwise (also when stopped by ``--budget``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ballast.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("BALLAST_FUZZ_PROFILE", "ci"), choices=["ci", "long"])
    parser.add_argument("--examples", type=int, help="examples to run (default: the profile's)")
    parser.add_argument("--steps", type=int, help="most steps per example (default: the profile's)")
    parser.add_argument("--random", action="store_true", help="fresh random examples (not derandomized)")
    parser.add_argument("--progress", type=int, default=50, help="print a summary every N examples")
    parser.add_argument("--no-shrink", action="store_true", help="report the first failure as found, unshrunk")
    parser.add_argument("--budget", type=float, help="stop after this many seconds of fuzzing (compiling excluded)")
    parser.add_argument("--evm", choices=["revm", "boa"], help="the EVM (default: BALLAST_FUZZ_EVM, else revm)")
    parser.add_argument("--vault", help="fuzz this vault source instead of contracts/Vault.vy (a mutant, say)")
    parser.add_argument("--sleeve", help="fuzz this lending sleeve instead of contracts/LendingSleeve.vy")
    parser.add_argument("--queue", help="fuzz this deposit queue instead of contracts/entry/DepositQueue.vy")
    parser.add_argument(
        "--lending",
        choices=["third", "all", "none"],
        help="which examples lend (default: BALLAST_FUZZ_LENDING, else third)",
    )
    args = parser.parse_args(argv)
    if args.evm:
        os.environ["BALLAST_FUZZ_EVM"] = args.evm
    if args.vault:
        os.environ["BALLAST_FUZZ_VAULT"] = os.path.abspath(args.vault)
    if args.lending:
        os.environ["BALLAST_FUZZ_LENDING"] = args.lending
    if args.queue:
        os.environ["BALLAST_FUZZ_QUEUE"] = os.path.abspath(args.queue)
    if args.sleeve:
        os.environ["BALLAST_FUZZ_SLEEVE"] = os.path.abspath(args.sleeve)

    from hypothesis import Phase, settings

    from ballast.fuzz import machine
    from ballast.fuzz.stack import deployers

    machine.PROFILE = args.profile
    machine.register_profiles()
    overrides: dict = {}
    if args.examples:
        overrides["max_examples"] = args.examples
    if args.steps:
        overrides["stateful_step_count"] = args.steps
    if args.random:
        overrides["derandomize"] = False
    if args.no_shrink:
        overrides["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
    deployers()  # compile before the budget starts
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a `timeout` still prints the report
    if args.budget:
        signal.signal(signal.SIGALRM, signal.default_int_handler)
        signal.setitimer(signal.ITIMER_REAL, args.budget)
    failed = False
    try:
        machine.run(settings(settings.get_profile(args.profile), **overrides), progress_every=args.progress)
    except KeyboardInterrupt:
        print("interrupted", "at the budget" if args.budget else "", flush=True)
    except Exception:  # noqa: BLE001 - a failing example: hypothesis has printed it; report, then fail
        failed = True
        import traceback

        traceback.print_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        print(machine.report(), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
