"""A request-body serializer that does not deep-copy its fields on every request (issue 13).

REST framework gives each serializer instance its own copy of the declared fields with
`copy.deepcopy`, which re-creates every field from deep copies of its arguments: for the report
intake's choice fields (the DSA vocabulary, about 150 values) that was 0.3 ms of a 3 ms request,
the largest single item of its profile. A flat input shape (plain fields, no nested serializers)
needs only what binding writes per instance (the field's name, parent and source), so a shallow
copy per instance is enough: the choice tables, validators and a list field's child are read-only
while validating and are shared.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers


class FlatInputSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, Any]:
        fields = {}
        for name, field in self._declared_fields.items():
            if isinstance(field, serializers.BaseSerializer):
                raise TypeError(f"{type(self).__name__}.{name}: a flat input has no nested shapes.")
            fields[name] = copy.copy(field)
        return fields
