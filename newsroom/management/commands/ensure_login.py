import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

PASSWORD_FILE = Path(settings.BASE_DIR) / ".admin-password"


def base_url(address: str) -> str:
    """The browser's address for a server started on `address` (runserver's PORT or HOST:PORT).

    A server listening on every interface is reached through the loopback one.
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Make sure an admin login exists for local use, and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--address",
            default="127.0.0.1:8000",
            help="where the server listens, as given to runserver: PORT or HOST:PORT",
        )

    def handle(self, *args, username, address, **options):
        login_url = f"{base_url(address)}/accounts/login/"
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
                f"Log in at {login_url} as {username!r} with its "
                f"existing password (reset it with: python manage.py changepassword {username})."
            )
            return
        self.stdout.write(f"Log in at {login_url} — username: {username}  password: {password}")
