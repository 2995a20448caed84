"""Fewer indexes to write per annotation and per history record.

The foreign keys' own indexes go: on annotations, `article` and `tag` lead composite indexes
that serve the same lookups, and `edited_by` and `reviewed_by` are looked up only when a user
is deleted; on history records none is ever looked up. `annotation_created_tag` is the
beginning of `annotation_desk`. The indexes are dropped by name: altering the fields would
make SQLite copy the whole annotations table once per field.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


HISTORY = "annotations_historicalannotation"
DROPPED = [  # (index, table, column), as Django named them when it made them
    ("annotations_annotation_article_id_22166e8b", "annotations_annotation", "article_id"),
    ("annotations_annotation_tag_id_867eefab", "annotations_annotation", "tag_id"),
    ("annotations_annotation_edited_by_id_120e9135", "annotations_annotation", "edited_by_id"),
    ("annotations_annotation_reviewed_by_id_7d4d4ae8", "annotations_annotation", "reviewed_by_id"),
    ("annotations_historicalannotation_answers_id_50375f40", HISTORY, "answers_id"),
    ("annotations_historicalannotation_article_id_42afcfda", HISTORY, "article_id"),
    ("annotations_historicalannotation_author_id_15e7c922", HISTORY, "author_id"),
    ("annotations_historicalannotation_edited_by_id_3acf180f", HISTORY, "edited_by_id"),
    ("annotations_historicalannotation_reviewed_by_id_0a4c9e84", HISTORY, "reviewed_by_id"),
    ("annotations_historicalannotation_tag_id_3d9b0e81", HISTORY, "tag_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0008_status_article_index"),
        ("newsroom", "0006_article_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="annotation",
            name="annotation_created_tag",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="annotation",
                    name="article",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="annotations",
                        to="newsroom.article",
                    ),
                ),
                migrations.AlterField(
                    model_name="annotation",
                    name="edited_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="annotation",
                    name="reviewed_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="annotation",
                    name="tag",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="annotations",
                        to="annotations.tag",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalannotation",
                    name="answers",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        help_text="The annotation this one answers (a rebuttal or a figure answering a claim).",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="annotations.annotation",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalannotation",
                    name="article",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="newsroom.article",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalannotation",
                    name="author",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalannotation",
                    name="edited_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalannotation",
                    name="reviewed_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalannotation",
                    name="tag",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="annotations.tag",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in DROPPED
            ],
        ),
    ]
