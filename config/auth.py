"""Django's model backend, with a signed-in user's permissions read in the user's own query.

Django's `ModelBackend` loads the user for each request, and then, at the first permission
check, the user's own permissions and their groups' permissions: three queries before a
request can ask "may this user annotate?". Here `get_user` reads the user and every
permission they hold, directly or through a group, in one statement, and any other user (one
found through an API token) gets all of them in one query at the first check. Each request
loads its user afresh, so a change in the admin applies to the next request.

The statement is written out rather than built with the ORM, and its row made into a user as
the ORM would (`config.statements.from_row`): it runs on every request, and composing the same
subquery of expressions each time cost more than a millisecond of CPU, several times what the
database takes to answer it.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Q

from .statements import from_row

SEPARATOR = " "  # never inside an app label or a permission's codename
AGGREGATE = {"postgresql": "string_agg", "sqlite": "group_concat"}


def held_permissions(user):
    """Every permission `user` holds, directly or through a group (a user id or a user)."""
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).order_by()


@cache
def user_with_permissions_sql(vendor: str) -> str:
    """The statement that reads a user by id with their permissions' names, space-separated,
    as `permission_names`."""
    User = get_user_model()
    fields = User._meta.concrete_fields
    table = User._meta.db_table
    direct = User.user_permissions.through._meta
    member = User.groups.through._meta
    granted = Group.permissions.through._meta
    columns = ", ".join(f'u."{field.column}"' for field in fields)
    sql = f"""
        SELECT {columns}, (
            SELECT {AGGREGATE[vendor]}(ct."app_label" || '.' || p."codename", '{SEPARATOR}')
            FROM "{Permission._meta.db_table}" p
            JOIN "{ContentType._meta.db_table}" ct ON ct."id" = p."content_type_id"
            WHERE p."id" IN (
                SELECT d."permission_id" FROM "{direct.db_table}" d WHERE d."user_id" = u."id"
                UNION
                SELECT g."permission_id" FROM "{granted.db_table}" g
                JOIN "{member.db_table}" m ON m."group_id" = g."group_id"
                WHERE m."user_id" = u."id"
            )
        ) AS "permission_names"
        FROM "{table}" u WHERE u."{User._meta.pk.column}" = %s
    """
    return sql


class ModelBackendOneQuery(ModelBackend):
    def get_user(self, user_id):
        User = get_user_model()
        alias = router.db_for_read(User)
        connection = connections[alias]
        if connection.vendor not in AGGREGATE:
            return super().get_user(user_id)
        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        sql = user_with_permissions_sql(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        *values, permission_names = row
        user = from_row(User, connection, values)
        if not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # Django's backend grants a superuser every permission
            user._perm_cache = set((permission_names or "").split(SEPARATOR)) - {""}
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser
            and not hasattr(user_obj, "_perm_cache")
        ):
            names = held_permissions(user_obj.pk).values_list("content_type__app_label", "codename")
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in names}
        return super().get_all_permissions(user_obj, obj)
