from django.db import migrations

SPECIALTIES = [
    ("cardiology", "Kardiyoloji", "Cardiology"),
    ("dermatology", "Dermatoloji", "Dermatology"),
    ("endocrinology", "Endokrinoloji", "Endocrinology"),
    ("family-medicine", "Aile Hekimliği", "Family medicine"),
    ("gastroenterology", "Gastroenteroloji", "Gastroenterology"),
    ("general-surgery", "Genel Cerrahi", "General surgery"),
    ("gynecology", "Kadın Hastalıkları ve Doğum", "Obstetrics and gynecology"),
    ("internal-medicine", "İç Hastalıkları", "Internal medicine"),
    ("neurology", "Nöroloji", "Neurology"),
    ("ophthalmology", "Göz Hastalıkları", "Ophthalmology"),
    ("orthopedics", "Ortopedi ve Travmatoloji", "Orthopedics"),
    ("otolaryngology", "Kulak Burun Boğaz", "Otolaryngology"),
    ("pediatrics", "Çocuk Sağlığı ve Hastalıkları", "Pediatrics"),
    ("psychiatry", "Psikiyatri", "Psychiatry"),
    ("psychology", "Psikoloji", "Psychology"),
    ("dentistry", "Diş Hekimliği", "Dentistry"),
    ("nutrition", "Beslenme ve Diyet", "Nutrition and dietetics"),
    ("physiotherapy", "Fizik Tedavi ve Rehabilitasyon", "Physical therapy"),
    ("urology", "Üroloji", "Urology"),
]


def add_specialties(apps, schema_editor):
    Specialty = apps.get_model("accounts", "Specialty")
    for slug, name_tr, name_en in SPECIALTIES:
        Specialty.objects.update_or_create(slug=slug, defaults={"name_tr": name_tr, "name_en": name_en})


def remove_specialties(apps, schema_editor):
    apps.get_model("accounts", "Specialty").objects.filter(slug__in=[s[0] for s in SPECIALTIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(add_specialties, remove_specialties)]
