from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance


class AutoSchema(SpectacularAutoSchema):
    """Views keep their input serializer as a nested `Input` class; name the schema component
    after the whole qualified name (`RegisterApiInput`), so two views' `Input` never collide."""

    def get_serializer_name(self, serializer, direction):
        qualname = type(force_instance(serializer)).__qualname__
        return qualname.replace(".", "") if "." in qualname else super().get_serializer_name(serializer, direction)
