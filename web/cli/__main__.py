"""``python -m web.cli``: the same as the ``rectiflow`` console script."""

from web.cli.main import main

main()
