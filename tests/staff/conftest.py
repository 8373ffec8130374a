"""Back-office fixtures: every role's account and login are in tests/conftest.py
(``staff_accounts``, ``as_role``); applications come from tests/support/renovation.py."""
