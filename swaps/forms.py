"""Forms of the swap flow: the upload, and the choices made on a target (faces, avatar, options)."""

from __future__ import annotations

from django import forms

from avatars.models import Avatar
from swaps.models import MediaKind, Target
from swaps.uploads import ACCEPTED_TEXT

ACCEPT_ATTRIBUTE = ",".join([
    "image/jpeg", "image/png", "image/webp", "video/mp4", "video/quicktime", "video/webm",
    "video/x-matroska", ".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".webm", ".mkv",
])


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Photo or video",
        help_text=f"{ACCEPTED_TEXT}.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
        error_messages={"required": "Choose a photo or a video to upload."},
    )


class SwapForm(forms.Form):
    """Which faces of the target to replace, with which of the user's avatars, and how."""

    faces = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple)
    only_largest = forms.BooleanField(required=False, label="Only the largest face")
    avatar = forms.ModelChoiceField(
        queryset=Avatar.objects.none(), widget=forms.RadioSelect, empty_label=None,
        error_messages={"required": "Choose the avatar whose face to use.",
                        "invalid_choice": "Choose one of your avatars."})
    feather = forms.IntegerField(
        label="Blend softness", min_value=0, max_value=100, initial=50,
        widget=forms.NumberInput(attrs={"type": "range", "step": 5}))
    colour_match = forms.IntegerField(
        label="Skin tone and light", min_value=0, max_value=100, initial=100,
        help_text=("100: match your photo's skin and light (most natural with your neck and "
                   "hands); 0: keep the avatar's own skin tone."),
        widget=forms.NumberInput(attrs={"type": "range", "step": 5}))
    keep_audio = forms.BooleanField(required=False, initial=True, label="Keep the audio")
    enhance = forms.BooleanField(required=False, label="Enhance the face")

    def __init__(self, *args, target: Target, owner, enhancer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = target
        self.fields["avatar"].queryset = Avatar.objects.filter(owner=owner)
        self.fields["faces"].choices = [
            (index, f"Face {index + 1}") for index, face in enumerate(target.faces)
            if face.get("usable", True)]
        self.fields["faces"].initial = [index for index, _ in self.fields["faces"].choices]
        if target.kind != MediaKind.VIDEO:
            del self.fields["keep_audio"]
        if not enhancer:
            del self.fields["enhance"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("only_largest") and not cleaned.get("faces"):
            raise forms.ValidationError("Tick at least one face, or choose only the largest.")
        return cleaned

    def face_selection(self) -> list[int] | str:
        if self.cleaned_data.get("only_largest"):
            return "largest"
        chosen = self.cleaned_data["faces"]
        if len(chosen) == len(self.fields["faces"].choices):
            return "all"
        return chosen
