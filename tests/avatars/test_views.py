"""Builder, generation, candidate and avatar views: full pages and htmx fragments, owner-only
lookups (another user gets 404 on every id URL), the limit message and bad input."""

import pytest
from django.urls import reverse

from avatars.models import Avatar, Candidate
from jobs.models import Job
from tests.avatars.factories import AvatarFactory, CandidateFactory, GenerationFactory, stored_bytes
from tests.factories import UserFactory
from worker.attributes import FIELDS, FIELDS_BY_NAME

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def checked_values(html: str) -> dict[str, str]:
    """The checked radio of each attribute in rendered builder HTML."""
    import re

    found = {}
    for match in re.finditer(
        r'<input type="radio"[^>]*name="([a-z_]+)" value="([^"]+)" checked', html
    ):
        found[match.group(1)] = match.group(2)
    return found


def test_builder_requires_login(client):
    response = client.get(reverse("avatars:builder"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_builder_page_shows_every_field_at_any(client_in, flat_engine):
    response = client_in.get(reverse("avatars:builder"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="attribute-form"' in html and 'id="candidates"' in html
    assert checked_values(html) == {field.name: "any" for field in FIELDS}
    for field in FIELDS:
        for choice in field.choices:
            assert f'name="{field.name}" value="{choice.value}"' in html
    for swatch in (choice.swatch for choice in FIELDS_BY_NAME["skin_tone"].choices):
        assert swatch in html


def test_builder_marks_what_the_engine_cannot_honour(client_in, flat_engine):
    html = client_in.get(reverse("avatars:builder")).content.decode()
    # The flat test engine honours only glasses: every other field carries the note.
    assert html.count("data-unsupported") == len(FIELDS) - 1
    assert "not steered by test-flat" in html


def test_surprise_full_page_and_fragment(client_in, flat_engine):
    data = {"action": "surprise", "count": "2"}
    page = client_in.post(reverse("avatars:builder"), data)
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    fragment = client_in.post(reverse("avatars:builder"), data, **HX)
    html = fragment.content.decode()
    assert html.lstrip().startswith('<form id="attribute-form"')
    assert "<html" not in html and 'id="candidates"' not in html
    drawn = checked_values(html)
    assert set(drawn) == {field.name for field in FIELDS}
    assert all(value in FIELDS_BY_NAME[name].values for name, value in drawn.items())
    assert '<option value="2" selected>' in html


def test_surprise_draws_differ_between_presses(client_in, flat_engine):
    draws = {
        tuple(
            sorted(
                checked_values(
                    client_in.post(
                        reverse("avatars:builder"), {"action": "surprise"}, **HX
                    ).content.decode()
                ).items()
            )
        )
        for _ in range(8)
    }
    assert len(draws) > 1


def test_clear_resets_to_any(client_in, flat_engine):
    response = client_in.post(
        reverse("avatars:builder"),
        {"action": "clear", "skin_tone": "3", "glasses": "glasses"},
        **HX,
    )
    assert checked_values(response.content.decode()) == {field.name: "any" for field in FIELDS}


def test_tampered_generate_is_refused_with_a_message(client_in, flat_engine):
    response = client_in.post(
        reverse("avatars:builder"), {"action": "generate", "skin_tone": "99", "age": "12-17"}
    )
    assert response.status_code == 400
    assert "Some choices were not recognised" in response.content.decode()
    assert not Job.objects.exists()
    fragment = client_in.post(
        reverse("avatars:builder"), {"action": "generate", "glasses": "monocle"}, **HX
    )
    assert fragment["HX-Retarget"] == "#attribute-form"
    assert fragment.content.decode().lstrip().startswith('<form id="attribute-form"')
    assert not Job.objects.exists()


def test_unknown_action_is_404(client_in):
    assert client_in.post(reverse("avatars:builder"), {"action": "delete-all"}).status_code == 404


def test_limit_message_and_generate_refused(client_in, user, settings, flat_engine):
    settings.SAFEFACE_MAX_AVATARS = 1
    AvatarFactory(owner=user)
    html = client_in.get(reverse("avatars:builder")).content.decode()
    assert "data-limit" in html and "the most you can keep" in html
    assert 'value="generate" class="btn btn-primary"' in html and "disabled" in html
    response = client_in.post(reverse("avatars:builder"), {"action": "generate"})
    assert response.status_code == 400
    assert "Delete one from your gallery" in response.content.decode()
    assert not Job.objects.exists()


def test_generation_page_and_polling_fragment(client_in, user):
    generation = GenerationFactory(owner=user, job__status=Job.Status.RUNNING, job__progress=50)
    candidate = CandidateFactory(generation=generation, index=0)
    url = reverse("avatars:generation", args=[generation.pk])
    page = client_in.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    fragment = client_in.get(url, **HX)
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<section id="candidates"') and "<html" not in html
    assert 'hx-trigger="every 1s"' in html
    assert reverse("avatars:candidate_file", args=[candidate.pk, "image"]) in html
    assert "data-pending" in html
    generation.job.status = Job.Status.SUCCEEDED
    generation.job.save()
    finished = client_in.get(url, **HX)
    assert finished.status_code == 286  # htmx stops polling
    assert "every 1s" not in finished.content.decode()


def test_cancel_full_page_and_fragment(client_in, user):
    generation = GenerationFactory(owner=user, job__status=Job.Status.RUNNING)
    url = reverse("avatars:generation_cancel", args=[generation.pk])
    fragment = client_in.post(url, **HX)
    assert fragment.content.decode().lstrip().startswith('<section id="candidates"')
    generation.job.refresh_from_db()
    assert generation.job.status == Job.Status.CANCELLED
    other = GenerationFactory(owner=user, job__status=Job.Status.QUEUED)
    page = client_in.post(reverse("avatars:generation_cancel", args=[other.pk]))
    assert page.status_code == 302
    assert page["Location"] == reverse("avatars:generation", args=[other.pk])


def test_save_candidate_full_page_and_fragment(client_in, user):
    first = CandidateFactory(generation__owner=user)
    response = client_in.post(reverse("avatars:candidate_save", args=[first.pk]), {"name": "Ada"})
    avatar = Avatar.objects.get(owner=user, name="Ada")
    assert response.status_code == 302
    assert response["Location"] == reverse("avatars:detail", args=[avatar.pk])
    second = CandidateFactory(generation__owner=user)
    hx = client_in.post(
        reverse("avatars:candidate_save", args=[second.pk]), {"name": "Grace"}, **HX
    )
    saved = Avatar.objects.get(owner=user, name="Grace")
    assert hx["HX-Redirect"] == reverse("avatars:detail", args=[saved.pk])


def test_save_candidate_needs_a_name(client_in, user):
    candidate = CandidateFactory(generation__owner=user)
    fragment = client_in.post(
        reverse("avatars:candidate_save", args=[candidate.pk]), {"name": " "}, **HX
    )
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section id="candidates"')
    assert "This field is required." in html
    page = client_in.post(reverse("avatars:candidate_save", args=[candidate.pk]), {"name": ""})
    assert page.status_code == 400
    assert not Avatar.objects.exists()


def test_save_at_the_limit_says_so(client_in, user, settings):
    settings.SAFEFACE_MAX_AVATARS = 1
    AvatarFactory(owner=user)
    candidate = CandidateFactory(generation__owner=user)
    fragment = client_in.post(
        reverse("avatars:candidate_save", args=[candidate.pk]), {"name": "X"}, **HX
    )
    assert "the most you can keep" in fragment.content.decode()
    assert Avatar.objects.filter(owner=user).count() == 1


def test_detail_shows_asked_and_honoured(client_in, user):
    avatar = AvatarFactory(
        owner=user,
        attributes={"glasses": "glasses", "skin_tone": "7"},
        engine_version="2021.7",
        honoured={
            "glasses": {"asked": "glasses", "measured": "none", "honoured": False},
            "skin_tone": {"asked": "7", "measured": "7", "honoured": True},
        },
    )
    html = client_in.get(reverse("avatars:detail", args=[avatar.pk])).content.decode()
    assert avatar.name in html and "stylegan-offline" in html and "2021.7" in html
    assert str(avatar.seed) in html
    row = html.split('data-attribute="skin_tone"')[1].split("</tr>")[0]
    assert "Monk 7" in row and "Yes" in row
    row = html.split('data-attribute="glasses"')[1].split("</tr>")[0]
    assert "Glasses" in row and "None" in row and ">No<" in row


def test_rename_full_page_and_fragment(client_in, user):
    avatar = AvatarFactory(owner=user, name="Before")
    url = reverse("avatars:rename", args=[avatar.pk])
    form_page = client_in.get(url)
    assert (
        "<html" in form_page.content.decode()
        and 'name="name" value="Before"' in form_page.content.decode()
    )
    form_fragment = client_in.get(url, **HX)
    assert form_fragment.content.decode().lstrip().startswith('<form id="avatar-name"')
    renamed = client_in.post(url, {"name": "After"}, **HX)
    html = renamed.content.decode()
    assert html.lstrip().startswith('<div id="avatar-name"') and "After" in html
    page = client_in.post(url, {"name": "Third"})
    assert page.status_code == 302
    avatar.refresh_from_db()
    assert avatar.name == "Third"
    invalid = client_in.post(url, {"name": ""}, **HX)
    assert "This field is required." in invalid.content.decode()
    avatar.refresh_from_db()
    assert avatar.name == "Third"


def test_download_is_a_named_png(client_in, user):
    avatar = AvatarFactory(owner=user)
    response = client_in.get(reverse("avatars:file", args=[avatar.pk, "image"]) + "?download=1")
    assert response.status_code == 200
    assert f'filename="safeface-avatar-{avatar.pk}.png"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\x89PNG") and body == stored_bytes(avatar.image)
    inline = client_in.get(reverse("avatars:file", args=[avatar.pk, "face"]))
    assert inline.status_code == 200 and "attachment" not in inline.get("Content-Disposition", "")
    assert client_in.get(reverse("avatars:file", args=[avatar.pk, "secrets"])).status_code == 404


def test_delete_confirms_then_removes_files(client_in, user):
    avatar = AvatarFactory(owner=user)
    storage, path = avatar.image.storage, avatar.image.name
    confirm = client_in.get(reverse("avatars:delete", args=[avatar.pk]))
    assert confirm.status_code == 200 and "Delete avatar" in confirm.content.decode()
    assert Avatar.objects.filter(pk=avatar.pk).exists()
    response = client_in.post(reverse("avatars:delete", args=[avatar.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("gallery")
    assert not Avatar.objects.filter(pk=avatar.pk).exists()
    assert not storage.exists(path)


def test_another_user_gets_404_on_every_id_url(client, user):
    avatar = AvatarFactory(owner=user)
    candidate = CandidateFactory(generation__owner=user, generation__job__status=Job.Status.RUNNING)
    generation = candidate.generation
    client.force_login(UserFactory())
    gets = [
        reverse("avatars:generation", args=[generation.pk]),
        reverse("avatars:candidate_file", args=[candidate.pk, "image"]),
        reverse("avatars:detail", args=[avatar.pk]),
        reverse("avatars:rename", args=[avatar.pk]),
        reverse("avatars:delete", args=[avatar.pk]),
        reverse("avatars:file", args=[avatar.pk, "image"]),
        reverse("avatars:file", args=[avatar.pk, "face"]),
    ]
    posts = [
        (reverse("avatars:generation_cancel", args=[generation.pk]), {}),
        (reverse("avatars:candidate_save", args=[candidate.pk]), {"name": "Stolen"}),
        (reverse("avatars:rename", args=[avatar.pk]), {"name": "Stolen"}),
        (reverse("avatars:delete", args=[avatar.pk]), {}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
        assert client.get(url, **HX).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    avatar.refresh_from_db()
    generation.job.refresh_from_db()
    assert avatar.name != "Stolen"
    assert generation.job.status == Job.Status.RUNNING
    assert Avatar.objects.count() == 1 and Candidate.objects.get().saved_as is None
