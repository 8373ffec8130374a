"""The household layer, below every domain: the room an owner files for and the owner's
contact (``fields``). The household registry (一户一档) grows here; fees, notices and every
domain read it, and it imports no domain.
"""
