"""Screenshots of SafeFace's main pages at desktop (1280) and phone (390) widths, in Chromium.

Usage: python scripts/screenshots.py OUT_DIR
Runs the app on a throwaway test database with a demo user and a few gallery items, so it needs
no running server. Needs Debian's chromium (apt-get install chromium).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, PHONE, chromium_path  # noqa: E402

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


def seed() -> tuple:
    """A demo user with avatars, swaps and an export; and an empty one."""
    from jobs.models import Job
    from tests.avatars.factories import AvatarFactory
    from tests.factories import JobFactory, UserFactory
    from tests.swaps.factories import SwapFactory

    demo = UserFactory(username="demo")
    start = timezone.now() - timedelta(days=3)
    for index, name in enumerate(["Juniper", "Rowan", "Ash", "Wren", "Sage", "Indigo"]):
        item = AvatarFactory(owner=demo, name=name) if index % 2 == 0 else SwapFactory(owner=demo)
        type(item).objects.filter(pk=item.pk).update(created_at=start + timedelta(hours=index * 7))
    export = JobFactory(
        owner=demo, kind=Job.Kind.EXPORT, status=Job.Status.RUNNING, progress=45,
        message="Adding file 3 of 7…", heartbeat_at=timezone.now(),
    )
    return demo, UserFactory(username="newcomer"), export


def main(out: Path) -> None:
    path = chromium_path()
    if path is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    base = f"http://localhost:{server.port}"
    try:
        demo, newcomer, export = seed()
        pages = [
            ("home", None, "/"),
            ("signup", None, "/accounts/signup/"),
            ("login", None, "/accounts/login/"),
            ("gallery-empty", newcomer, "/gallery/"),
            ("gallery", demo, "/gallery/"),
            ("job", demo, f"/jobs/{export.pk}/status/"),
            ("account", demo, "/accounts/"),
            ("delete", demo, "/accounts/delete/"),
            ("not-found", None, "/no-such-page/"),
        ]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            for width_name, viewport in WIDTHS.items():
                for user in (None, newcomer, demo):
                    context = browser.new_context(viewport=viewport, base_url=base)
                    page = context.new_page()
                    if user is not None:
                        page.goto("/accounts/login/")
                        page.fill("#id_username", user.username)
                        page.fill("#id_password", "correct horse battery staple")
                        page.click("button[type=submit]")
                        page.wait_for_url("**/gallery/")
                    for name, who, url in pages:
                        if who is not user:
                            continue
                        page.goto(url)
                        page.wait_for_load_state("networkidle")
                        target = out / f"{name}-{width_name}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target)
                    context.close()
            browser.close()
    finally:
        server.terminate()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots-tmp"))
