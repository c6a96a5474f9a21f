"""Run the fake Twilio API standalone, for the embedded default and demos.

    python manage.py run_fake_twilio --port 8025 --auto-callbacks

Point the platform at it with TWILIO_API_BASE_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (printed).
"""

import time

from django.core.management.base import BaseCommand

from notifications.fake_twilio import FakeTwilio


class Command(BaseCommand):
    help = "Run a fake Twilio Messages API on 127.0.0.1 (records messages, posts signed status callbacks)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        parser.add_argument("--account-sid", default=None)
        parser.add_argument("--auth-token", default=None)
        parser.add_argument("--auto-callbacks", action="store_true", help="post sent/delivered callbacks")

    def handle(self, *args, **options):
        fake = FakeTwilio(
            account_sid=options["account_sid"],
            auth_token=options["auth_token"],
            auto_callbacks=options["auto_callbacks"],
            port=options["port"],
        ).start()
        self.stdout.write(f"TWILIO_API_BASE_URL={fake.base_url}")
        self.stdout.write(f"TWILIO_ACCOUNT_SID={fake.account_sid}")
        self.stdout.write(f"TWILIO_AUTH_TOKEN={fake.auth_token}")
        self.stdout.flush()
        seen = 0
        try:
            while True:
                time.sleep(1)
                if len(fake.messages) != seen:
                    seen = len(fake.messages)
                    self.stdout.write(f"{seen} message(s) recorded")
        except KeyboardInterrupt:
            fake.stop()
