"""The mutation-testing tool's mutant list (``ballast/mutate.py``) against today's contracts.

Each mutant quotes an exact snippet of a contract or module; when the code moves (the rebalance's
checks moved from the vault into ``Rules.vy`` and ``contracts/modules/rules.vy``), a snippet stops
matching and ``python -m ballast.mutate`` refuses to run. This test runs the same check the tool
runs first, so that the list breaks here, in the suite, instead of silently at the next mutation run.
Pure Python: no chain, no compilation.
"""

from __future__ import annotations

from ballast import mutate


def test_mutants__every_snippet_occurs_once_and_every_test_file_exists():
    assert mutate.stale_mutants() == []


def test_mutants__applied__each_changes_its_file_once(tmp_path):
    # Applying a mutant writes its replacement where the snippet was, and nowhere else.
    for mutant in mutate.MUTANTS:
        source = (mutate.ROOT / mutant.file).read_text()
        copy = tmp_path / mutant.name / mutant.file
        copy.parent.mkdir(parents=True)
        copy.write_text(source)
        mutant.apply(tmp_path / mutant.name)
        mutated = copy.read_text()
        assert mutated != source, mutant.name
        assert mutated == source.replace(mutant.original, mutant.replacement), mutant.name
