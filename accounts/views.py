"""Account pages: sign up, log in (rate-limited), account settings, delete my account."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import DeleteAccountForm, LoginForm, SignupForm
from jobs.exports import exports_recent


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("gallery")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data.get("email") or "",
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to SafeFace. Your gallery is ready.")
        return redirect("gallery")
    return render(request, "registration/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.rate_limited:
            response.status_code = 429
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("account")

    def form_valid(self, form) -> HttpResponse:
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/account.html",
        {
            "exports": exports_recent(user=request.user),
            "delete_form": DeleteAccountForm(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.user_delete(user=user)
        messages.success(request, "Your account and every file in it have been deleted.")
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})
