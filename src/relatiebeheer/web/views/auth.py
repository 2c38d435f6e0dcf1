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
    """Shown by django-axes after 5 failed attempts within 30 minutes."""
    return render(
        request,
        "web/login.html",
        {
            "locked_out": True,
            "lockout_message": _(
                "Too many failed attempts. This login is locked for 30 minutes; "
                "ask an administrator if you need access sooner."
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
