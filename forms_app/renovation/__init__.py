"""Renovation applications (装修申请): the owner's form, status page and permit."""
