"""The settings every test app is made with: the built site is not served, passwords are hashed
cheaply (one test checks the production parameters)."""

TEST_CONFIG = {"TESTING": True, "SITE_DIR": None, "PASSWORD_HASH_COST": "testing"}
