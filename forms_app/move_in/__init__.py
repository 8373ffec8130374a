"""Move-in bookings (搬家预约): the owner's booking form and private confirmation page, and
the staff's schedule of a day.

Slots, capacities, the garage clearance and the oversize post come from the ``move_in`` block
of ``data/community.yml``.
"""
