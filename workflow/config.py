"""One configuration for every process: the web app, the CLI, the scheduler and Prefect workers.

Settings come from defaults, then ``<instance>/config.py`` (a Python file of UPPERCASE
names), then ``RECTIFLOW_*`` environment variables (``RECTIFLOW_DATABASE_URL`` sets
``DATABASE_URL``; values are parsed as JSON when they can be, and ``A__B`` sets key ``B``
of dict ``A``) — the same rules as Flask's ``from_pyfile`` and ``from_prefixed_env``, so a
Prefect worker on another machine reads exactly what the web app reads, and no secret has
to travel in a deployment's parameters.  The instance folder is ``$RECTIFLOW_INSTANCE`` or
``instance/`` in the checkout.  Must not import flask or ``notifications``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent
PREFIX = "RECTIFLOW_"


def instance_path(environ: Mapping[str, str] | None = None) -> str:
    """The instance folder: ``$RECTIFLOW_INSTANCE`` or ``instance/`` in the checkout."""
    env = os.environ if environ is None else environ
    return os.path.abspath(env.get("RECTIFLOW_INSTANCE") or CHECKOUT / "instance")


def engine_defaults(instance: str) -> dict[str, Any]:
    """The defaults every process shares (the web app adds its own on top)."""
    return {
        "DATABASE_URL": f"sqlite:///{os.path.join(instance, 'rectiflow.sqlite')}",
        "SQLITE_SYNCHRONOUS": "FULL",
        "UPLOAD_FOLDER": os.path.join(instance, "uploads"),
        "DEFINITIONS_DIR": str(CHECKOUT / "definitions"),
        "BASE_URL": "http://127.0.0.1:5000",
        "AUDIT_HASH": "sha256",
        "EVIDENCE_CIPHER": "none",  # or "sm4": new evidence files sealed at rest
        "KEYS_DIR": os.path.join(instance, "keys"),
        "LETTER_TEMPLATES_DIR": os.path.join(instance, "letters"),  # the office's .docx templates
    }


def from_file(instance: str) -> dict[str, Any]:
    """The UPPERCASE names of ``<instance>/config.py`` (nothing if there is no such file)."""
    path = Path(instance) / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_bytes(), str(path), "exec"), namespace)  # noqa: S102 - the operator's file
    return {k: v for k, v in namespace.items() if k.isupper()}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``RECTIFLOW_*`` variables without the prefix, JSON-parsed where possible."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for key in sorted(k for k in env if k.startswith(PREFIX)):
        try:
            value: Any = json.loads(env[key])
        except ValueError:
            value = env[key]
        *parents, last = key[len(PREFIX) :].split("__")
        target = out
        for name in parents:
            target = target.setdefault(name, {})
        target[last] = value
    return out


def load(
    defaults: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Every setting: ``defaults`` (else the engine's), the instance file, the environment."""
    instance = instance_path(environ)
    settings = dict(engine_defaults(instance) if defaults is None else defaults)
    settings.update(from_file(instance))
    settings.update(from_environment(environ))
    return settings
