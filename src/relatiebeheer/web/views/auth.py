"""Login, logout and the lockout answer."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def lockout_response(request, credentials, *args, **kwargs):
    """Shown by django-axes after 5 failed attempts for one username from one address
    within 30 minutes; other addresses are not locked."""
    return render(
        request,
        "web/login.html",
        {
            "locked_out": True,
            "lockout_message": _(
                "Too many failed attempts for this username from your address: it is "
                "locked here for 30 minutes. Ask an administrator if you need access sooner."
            ),
        },
        status=429,
    )


@require_POST
def logout_everywhere(request):
    """End this user's sessions on every device (and this one)."""
    from django.contrib.auth import logout

    from relatiebeheer.users.services import user_log_out_everywhere

    if request.user.is_authenticated:
        user_log_out_everywhere(actor=request.user, user=request.user)
        logout(request)
    return redirect("web:login")
