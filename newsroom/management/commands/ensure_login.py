import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

PASSWORD_FILE = Path(settings.BASE_DIR) / ".admin-password"


class Command(BaseCommand):
    help = "Make sure an admin login exists for local use, and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        saved = PASSWORD_FILE.read_text().strip() if PASSWORD_FILE.exists() else ""
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username, f"{username}@localhost", password)
            # Kept beside the database (git-ignored, owner-only) so `make run` can print it again.
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        elif saved and user.check_password(saved):
            password = saved
        else:
            self.stdout.write(
                f"Log in at http://127.0.0.1:8000/accounts/login/ as {username!r} with its "
                f"existing password (reset it with: python manage.py changepassword {username})."
            )
            return
        self.stdout.write(
            f"Log in at http://127.0.0.1:8000/accounts/login/ — username: {username}  "
            f"password: {password}"
        )
