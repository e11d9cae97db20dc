"""Rectiflow's workflow engine: definitions, the service, clocks, audit, escalation.

Usable without the web app; never imports flask or ``notifications``.
"""
