"""Silverback bots (``silverback run keeper`` or ``silverback run bots.keeper:bot``)."""
