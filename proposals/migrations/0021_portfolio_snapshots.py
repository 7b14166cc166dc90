"""The portfolio's figures per scope, refreshed by beat (proposals.portfolio.refresh)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("proposals", "0020_lists_flat")]

    operations = [
        migrations.CreateModel(
            name="PortfolioSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=40, unique=True)),
                ("figures", models.JSONField()),
                ("computed_at", models.DateTimeField()),
            ],
        ),
    ]
