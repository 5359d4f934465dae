"""One mechanism for role checks: every view declares who may call it, a before_request enforces it.

A view without a declaration is refused (default deny), so a forgotten decorator is a 403, not a leak.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, request
from flask_login import current_user

PUBLIC = "__public__"
AUTHENTICATED = "__authenticated__"


def roles_required(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        view._allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return decorator


def public(view: Callable) -> Callable:
    view._allowed_roles = frozenset({PUBLIC})  # type: ignore[attr-defined]
    return view


def login_required(view: Callable) -> Callable:
    view._allowed_roles = frozenset({AUTHENTICATED})  # type: ignore[attr-defined]
    return view


def allowed_roles(endpoint: str | None) -> frozenset[str] | None:
    if endpoint is None:
        return None
    if endpoint in current_app.config.get("PUBLIC_ENDPOINTS", ()):
        return frozenset({PUBLIC})
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    # flask-smorest/MethodView: the roles may sit on the class or on the method
    roles = getattr(view, "_allowed_roles", None)
    if roles is None and hasattr(view, "view_class"):
        method = getattr(view.view_class, request.method.lower(), None)
        roles = getattr(method, "_allowed_roles", None) or getattr(view.view_class, "_allowed_roles", None)
    return roles


def enforce_roles(unauthenticated: Callable, user=None) -> None:
    """Called before each request: 401/redirect when anonymous, 403 for a role not allowed."""
    if request.endpoint in (None, "static") or request.routing_exception is not None:
        return None
    roles = allowed_roles(request.endpoint)
    if roles is None:
        abort(403)
    if PUBLIC in roles:
        return None
    user = user if user is not None else current_user
    if not user or not user.is_authenticated:
        return unauthenticated()
    if AUTHENTICATED in roles or user.role in roles:
        return None
    abort(403)


def require(condition: bool) -> None:
    """Object-level access: what a user may not see does not exist for them (404)."""
    if not condition:
        abort(404)

