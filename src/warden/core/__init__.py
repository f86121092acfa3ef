"""Pure core: no I/O, no clock, no environment, no frameworks.

``tests/test_architecture.py`` enforces that nothing here imports ``warden.adapters``
or does I/O.
"""
