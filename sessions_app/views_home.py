from django.shortcuts import render

from . import roles


def home(request):
    programs = roles.programs_for(request.user, with_groups=True)
    return render(request, "ccdg/home.html", {"programs": programs})
