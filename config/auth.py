"""Django's model backend, with a signed-in user's permissions read in the user's own query.

Django's `ModelBackend` loads the user for each request, and then, at the first permission
check, the user's own permissions and their groups' permissions: three queries before a
request can ask "may this user annotate?". Here `get_user` reads the user and every
permission they hold, directly or through a group, in one query, and any other user (one
found through an API token) gets all of them in one query at the first check. Each request
loads its user afresh, so a change in the admin applies to the next request.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import CharField, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.functions import Concat

SEPARATOR = " "  # never inside an app label or a permission's codename


def held_permissions(user):
    """Every permission `user` holds, directly or through a group (a user id, or `OuterRef`)."""
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).order_by()


def permission_names(user):
    """`app_label.codename` of each of `user`'s permissions, as one space-separated string."""
    name = Concat("content_type__app_label", Value("."), "codename", output_field=CharField())
    return (
        held_permissions(user)
        .values(each=Value(1))
        .annotate(names=StringAgg(name, Value(SEPARATOR)))
        .values("names")
    )


class ModelBackendOneQuery(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()._default_manager.annotate(
            permission_names=Subquery(permission_names(OuterRef("pk")))
        )
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # Django's backend grants a superuser every permission
            user._perm_cache = set((user.permission_names or "").split(SEPARATOR)) - {""}
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
