"""Forms for signing up, logging in (rate-limited) and deleting an account."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts import ratelimit

RATE_LIMITED = "rate_limited"


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False, help_text="Optional. Only used if you ask us to reset your password."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class LoginForm(AuthenticationForm):
    """Django's login form, refusing to check passwords after too many failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = ratelimit.client_address(self.request) if self.request else "unknown"
        if ratelimit.login_blocked(address=address, username=username):
            raise ValidationError(
                "Too many failed attempts. Please wait 15 minutes and try again.",
                code=RATE_LIMITED,
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            ratelimit.login_failed(address=address, username=username)
            raise
        ratelimit.login_succeeded(address=address, username=username)
        return cleaned

    @property
    def rate_limited(self) -> bool:
        return any(error.code == RATE_LIMITED for error in self.non_field_errors().as_data())


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Type your password to confirm. This cannot be undone.",
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("That is not your password.", code="wrong_password")
        return password
