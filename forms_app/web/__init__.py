"""Web helpers every domain's views use: paging, list filters, template filters, cleaning what
people type, staff drafts sent from the phone, Excel/CSV exports and the Chinese error pages.
Imports only ``core`` and ``files``.
"""
