from django.db import migrations

from medplatform.search_keys import search_key

BATCH = 1000


def fill(apps, schema_editor):
    keys = {
        "User": {"name_key": ("last_name", "first_name")},
        "Clinic": {"name_key": ("name",), "city_key": ("city",)},
        "Specialty": {"name_tr_key": ("name_tr",), "name_en_key": ("name_en",)},
    }
    for model_name, fields in keys.items():
        model = apps.get_model("accounts", model_name)
        rows = []
        for row in model.objects.all().iterator(chunk_size=BATCH):
            for key_field, sources in fields.items():
                setattr(row, key_field, search_key(" ".join(getattr(row, name) or "" for name in sources)))
            rows.append(row)
            if len(rows) == BATCH:
                model.objects.bulk_update(rows, list(fields))
                rows = []
        model.objects.bulk_update(rows, list(fields))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_search_keys")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
