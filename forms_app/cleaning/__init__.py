"""保洁品质检查: cleaning quality inspections in the staff back office.

The checklist is built from ``data/cleaning_standards.yml``, the same file the handbook's
cleaning standards page is rendered from, so the page and the inspection never disagree.
"""
