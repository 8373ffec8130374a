"""Files: owners' uploads and their checks, attachments kept against a form across errors
(and their sweep), and backups of the database with the uploads. Imports only ``core``.
"""
