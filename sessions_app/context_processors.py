from django.utils.functional import SimpleLazyObject

from sessions_app import roles

#: Programs named in the navigation bar, newest first; someone with more (a coordinator of
#: many years, a report viewer of a hospital system, staff) gets "All programs" for the rest.
NAV_PROGRAMS = 4


def navigation(request):
    """The programs a signed-in user may open, for the navigation bar.

    Lazy: pages that do not render the menu cost no queries, and those that do pay once.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_programs": SimpleLazyObject(lambda: roles.nav_programs(user, NAV_PROGRAMS))}
