"""The settings every test app is made with: the built site is not served, passwords are hashed
cheaply (one test checks the production parameters)."""

TEST_CONFIG = {
    "TESTING": True,
    "SITE_DIR": None,
    "PASSWORD_HASH_COST": "testing",
    # The suite files many forms from one address and one room; the throttles' own tests set
    # their limits (tests/core/test_throttles.py).
    "PUBLIC_POSTS_PER_ADDRESS_PER_HOUR": 100_000,
    "PUBLIC_FILINGS_PER_ROOM_PER_DAY": 100_000,
}
