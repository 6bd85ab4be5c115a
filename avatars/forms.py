"""The builder's forms. The attribute form is built from the schema in worker.attributes, so
no field or choice is listed twice."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.forms import BoundField

from avatars.models import Avatar
from avatars.services import MAX_CANDIDATES
from worker.attributes import ANY, FIELDS, Attributes, Choice, Field, validate


@dataclass(frozen=True)
class SchemaField:
    """What the template needs to draw one attribute: its schema, its bound form field, the
    value shown, and whether the active engine can honour it."""

    schema: Field
    bound: BoundField
    value: str
    unsupported: bool

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self.schema.choices

    @property
    def swatches(self) -> bool:
        return any(choice.swatch for choice in self.schema.choices)


class AttributeForm(forms.Form):
    """The asked attributes (every field defaults to "any") and how many faces to make."""

    def __init__(self, *args, unsupported: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unsupported = unsupported
        for field in FIELDS:
            self.fields[field.name] = forms.ChoiceField(
                label=field.label,
                choices=[(ANY, "Any"), *((choice.value, choice.label) for choice in field.choices)],
                initial=ANY,
                # A field left out of the request means "no preference", as the schema says.
                required=False,
                widget=forms.RadioSelect,
                help_text=field.help,
            )
        self.fields["count"] = forms.TypedChoiceField(
            label="Faces to make",
            choices=[(n, str(n)) for n in range(1, MAX_CANDIDATES + 1)],
            coerce=int,
            initial=settings.SAFEFACE_GENERATE_COUNT,
            required=False,
            empty_value=settings.SAFEFACE_GENERATE_COUNT,
        )

    def schema_fields(self) -> list[SchemaField]:
        rows = []
        for field in FIELDS:
            bound = self[field.name]
            value = bound.value() or ANY
            rows.append(SchemaField(field, bound, str(value), field.name in self.unsupported))
        return rows

    def attributes(self) -> Attributes:
        """The validated attributes; call after is_valid()."""
        return validate({field.name: self.cleaned_data.get(field.name) or ANY for field in FIELDS})

    def count(self) -> int:
        return self.cleaned_data["count"]


class CandidateSaveForm(forms.Form):
    name = forms.CharField(max_length=80, strip=True)


class AvatarRenameForm(forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["name"]
