"""The app's core, the lowest layer: settings, the database and its one SQLite-specific place,
the Flask extensions, the community data, the clock, private files, ids in URLs, tokens and
reference numbers, the security headers, and the two pages that belong to no domain (the
``/forms/`` landing page and the health check). Imports nothing else of ``forms_app``.
"""
