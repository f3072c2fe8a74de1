"""A lab of real Debian hosts (systemd-nspawn over overlayfs) for driftcheck's end-to-end tests.

`python -m tests.lab up|down|status`, or the `lab` pytest fixture in tests/e2e/conftest.py.
"""
