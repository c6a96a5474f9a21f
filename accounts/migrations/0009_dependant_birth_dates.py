"""A dependant's birth date, recorded on the guardianship, onto the dependant's account: the one
place accounts.exemptions.is_exempt reads an age from."""

from django.db import migrations


def copy_birth_dates(apps, schema_editor):
    Guardianship = apps.get_model("accounts", "Guardianship")
    User = apps.get_model("accounts", "User")
    for guardianship in Guardianship.objects.order_by("started_at").only("dependant_id", "birth_date"):
        User.objects.filter(pk=guardianship.dependant_id, birth_date__isnull=True).update(
            birth_date=guardianship.birth_date
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_birth_date_and_clinic_exemptions")]

    operations = [migrations.RunPython(copy_birth_dates, migrations.RunPython.noop)]
