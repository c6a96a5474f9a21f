"""The data controller's identity for the portal's footer (privacy/controller.py)."""

from django import template

from privacy.controller import controller_identity

register = template.Library()


@register.simple_tag
def data_controller() -> dict:
    return controller_identity()
