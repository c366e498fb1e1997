"""``python -m exchange``: the ``exchange`` command."""

from exchange.app import main

main()
