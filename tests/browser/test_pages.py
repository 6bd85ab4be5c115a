"""The site in a real browser: sign up, gallery paging with htmx, a polled job, no third parties."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from jobs.models import Job
from safeface.views import GALLERY_PAGE_SIZE
from tests.avatars.factories import AvatarFactory
from tests.browser.conftest import PHONE
from tests.factories import PASSWORD, JobFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url("**/gallery/")


def test_sign_up_lands_on_the_empty_gallery(page):
    page.goto("/")
    page.click("text=Create a free account")
    page.fill("#id_username", "grace")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button:has-text('Create account')")
    page.wait_for_url("**/gallery/")
    assert page.is_visible("text=Nothing here yet")
    assert page.is_visible("text=Design your first avatar")


def test_no_page_makes_a_third_party_request(page, live_server):
    user = UserFactory()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    page.goto("/")
    page.goto("/accounts/signup/")
    log_in(page, user)
    page.goto("/accounts/")
    assert hosts == {urlparse(live_server.url).netloc}
    # htmx came from the app, and it is running.
    assert page.evaluate("typeof window.htmx") == "object"


def test_gallery_loads_more_cards_in_place(page):
    user = UserFactory()
    start = timezone.now() - timedelta(hours=1)
    for index in range(GALLERY_PAGE_SIZE + 2):
        avatar = AvatarFactory(owner=user)
        created_at = start + timedelta(minutes=index)
        type(avatar).objects.filter(pk=avatar.pk).update(created_at=created_at)
    log_in(page, user)
    cards = page.locator(".gallery-card")
    assert cards.count() == GALLERY_PAGE_SIZE
    page.click("text=Load more")
    expected = GALLERY_PAGE_SIZE + 2
    page.wait_for_function(f"document.querySelectorAll('.gallery-card').length === {expected}")
    assert page.url.endswith("/gallery/")  # swapped in place, no navigation
    assert page.locator("text=Load more").count() == 0
    # Thumbnails came through the owner-checked view and decoded as images.
    loaded = page.evaluate("""async () => {
        const images = [...document.querySelectorAll('.gallery-card img')];
        for (const image of images) {
            image.loading = 'eager';  // the gallery lazy-loads what is below the fold
            if (!image.complete) await new Promise(done => image.onload = image.onerror = done);
        }
        return images.length > 0 && images.every(image => image.naturalWidth > 0);
    }""")
    assert loaded


def test_job_page_polls_until_the_job_ends(page):
    user = UserFactory()
    job = JobFactory(
        owner=user, status=Job.Status.RUNNING, progress=20, message="Adding file 1 of 4…",
        heartbeat_at=timezone.now(),
    )
    log_in(page, user)
    page.goto(f"/jobs/{job.id}/status/")
    assert page.get_attribute("[role=progressbar]", "aria-valuenow") == "20"
    Job.objects.filter(pk=job.pk).update(
        progress=60, message="Adding file 3 of 4…", heartbeat_at=timezone.now()
    )
    page.wait_for_selector("[role=progressbar][aria-valuenow='60']")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, message="It broke, politely.")
    page.wait_for_selector("text=It broke, politely.")
    assert page.locator("[hx-trigger]").count() == 0  # polling stopped


def test_export_from_the_gallery_and_download(page):
    user = UserFactory()
    AvatarFactory(owner=user)
    log_in(page, user)
    page.click("button:has-text('Export my data')")
    page.wait_for_selector("text=Download zip")
    with page.expect_download() as download_info:
        page.click("text=Download zip")
    assert download_info.value.suggested_filename.startswith("safeface-export-")


@pytest.mark.parametrize("path", ["/", "/accounts/signup/", "/gallery/"])
def test_pages_fit_a_phone_screen(page, path):
    user = UserFactory()
    AvatarFactory(owner=user)
    if path == "/gallery/":
        log_in(page, user)
    page.set_viewport_size(PHONE)
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
