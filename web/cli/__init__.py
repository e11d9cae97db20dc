"""The `rectiflow` command: Flask's CLI group plus one module of commands per area.

- :mod:`~web.cli.main`: the group, ``db upgrade`` and the console-script entry point;
- ``calendar``, ``clock`` (sweep, dispatch, scheduler, run, Prefect deployments),
  ``definitions``, ``demo``, ``excel``, ``issues``, ``ops`` (audit, backup), ``tokens``:
  each contributes its ``COMMANDS``.

Commands are thin: they parse arguments, open a transaction, call ``workflow`` and print.
"""

from web.cli.main import cli, main

__all__ = ["cli", "main"]
