from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.views.decorators.http import require_safe


@login_not_required
@require_safe
def healthz(request):
    """For a load balancer or an uptime check: 200 "ok" while this server reaches its database.

    Open to anyone (it tells nothing), and 503 rather than a 500 page when the database does
    not answer, so the proxy takes this server out of rotation instead of showing errors.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse(
            "database unavailable", status=503, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
