"""The attribute form is built from the schema: every field and choice, "any" by default."""

from avatars.forms import AttributeForm
from worker.attributes import ANY, FIELDS, blank


def test_every_schema_field_and_choice_is_in_the_form():
    form = AttributeForm()
    for field in FIELDS:
        choices = [value for value, _ in form.fields[field.name].choices]
        assert choices == [ANY, *field.values]
        assert form[field.name].value() == ANY


def test_an_empty_submission_means_any_everywhere():
    form = AttributeForm({})
    assert form.is_valid(), form.errors
    assert form.attributes() == blank()
    assert form.count() == 4


def test_chosen_values_come_through_validated():
    form = AttributeForm({"skin_tone": "9", "glasses": "glasses", "count": "2"})
    assert form.is_valid(), form.errors
    attributes = form.attributes()
    assert attributes["skin_tone"] == "9"
    assert attributes["glasses"] == "glasses"
    assert attributes["age"] == ANY
    assert form.count() == 2


def test_unknown_values_are_rejected():
    form = AttributeForm({"skin_tone": "11", "age": "12-17", "count": "99"})
    assert not form.is_valid()
    assert set(form.errors) == {"skin_tone", "age", "count"}


def test_fields_the_engine_cannot_honour_are_marked():
    form = AttributeForm(unsupported=frozenset({"freckles", "ancestry"}))
    marked = {row.schema.name for row in form.schema_fields() if row.unsupported}
    assert marked == {"freckles", "ancestry"}
