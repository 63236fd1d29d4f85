from django.utils.functional import SimpleLazyObject

from sessions_app import roles


def navigation(request):
    """The programs a signed-in user may open, for the navigation bar.

    Lazy: pages that do not render the menu cost no queries, and those that do pay once.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_programs": SimpleLazyObject(lambda: roles.programs_for(user))}
