"""The three tags every newsroom starts with, and the "Editors" group that may annotate
(docs/data-model.md)."""

from django.db import migrations

DEFAULT_TAGS = [
    # label, slug, colour, shortcut, description, position
    ("Claim", "claim", "#b45309", "c", "A statement of fact or opinion that can be checked.", 1),
    ("Rebuttal", "rebuttal", "#b91c1c", "r", "A passage that disputes or answers a claim.", 2),
    ("Figure", "figure", "#1d4ed8", "f", "A number, statistic or date worth verifying.", 3),
]

EDITOR_PERMISSIONS = [
    ("annotations", "add_annotation"),
    ("annotations", "change_annotation"),
    ("annotations", "delete_annotation"),
    ("annotations", "view_annotation"),
    ("annotations", "view_tag"),
    ("newsroom", "view_article"),
]


def create_tags(apps, schema_editor):
    Tag = apps.get_model("annotations", "Tag")
    for label, slug, color, shortcut, description, position in DEFAULT_TAGS:
        Tag.objects.get_or_create(
            slug=slug,
            defaults={
                "label": label,
                "color": color,
                "shortcut": shortcut,
                "description": description,
                "position": position,
            },
        )


def create_editors_group(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so the group gets them.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    for app_label, codename in EDITOR_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0001_initial"),
        ("newsroom", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_tags, migrations.RunPython.noop),
        migrations.RunPython(create_editors_group, migrations.RunPython.noop),
    ]
