"""ape run vault: a Ballast vault for its depositors (status, join, deposit, exit, history).

The logic is ballast.depositor (ballast/depositor/cli.py wires it to click); see the README's
"Depositors" section.
"""

from ballast.depositor.cli import cli

__all__ = ["cli"]
