"""Version 2 of the health-profile share notice: only the chosen categories are shared, and a
share without an end date ends a set number of days after the last visit with that doctor.

Publishing a new version makes every share given on version 1 no longer current (reads check the
notice version), so patients re-consent on the text that states the end rule: that is intended.
The number of days is the deployment's SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT when this migration
runs; a deployment that changes the setting later publishes a new version (see README.md).
"""

import hashlib

from django.conf import settings
from django.db import migrations

PURPOSE = "health_profile_share"
VERSION = 2

TURKISH = (
    "Sağlık profilinizin yalnızca seçtiğiniz kategorileri (alerjiler, ilaçlar, hastalıklar ve tedaviler "
    "arasından en az biri), seçtiğiniz hekimle açık rızanıza dayanılarak paylaşılır; seçmediğiniz kategoriler "
    "paylaşılmaz. Bir bitiş tarihi belirlerseniz paylaşım o tarihte sona erer. Bitiş tarihi belirlemezseniz "
    "paylaşım, o hekimle son randevunuzdan {days} gün sonra sona erer (iptal edilen randevular sayılmaz; "
    "randevunuz yoksa veya paylaşımı daha sonra verdiyseniz süre paylaşım tarihinden başlar); o hekimle yeni "
    "bir randevu süreyi yeniden başlatır. Hekimin her görüntülemesi kayıt altına alınır ve size gösterilir. "
    "Rızanızı dilediğiniz zaman geri alabilirsiniz; bu durumda hekimin erişimi derhal sona erer."
)
ENGLISH = (
    "Only the categories of your health profile that you choose (at least one of allergies, medications, "
    "conditions and treatments) are shared with the doctor you choose, on your explicit consent; categories "
    "you do not choose are not shared. If you set an end date, the share ends then. If you set none, it ends "
    "{days} days after your last visit with that doctor (cancelled visits do not count; counted from when you "
    "share if you have no visit or share later); a new visit with that doctor starts the period again. Every "
    "view by the doctor is logged and shown to you. You can withdraw at any time; the doctor's access then "
    "ends at once."
)


def add_texts(apps, schema_editor):
    ConsentText = apps.get_model("privacy", "ConsentText")
    days = settings.SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT
    for language, template in (("tr", TURKISH), ("en", ENGLISH)):
        text = template.format(days=days)
        ConsentText.objects.get_or_create(
            purpose=PURPOSE,
            version=VERSION,
            language=language,
            defaults={"text": text, "content_hash": hashlib.sha256(text.encode()).hexdigest()},
        )


def remove_texts(apps, schema_editor):
    apps.get_model("privacy", "ConsentText").objects.filter(purpose=PURPOSE, version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0006_destructionrun_append_only")]
    operations = [migrations.RunPython(add_texts, remove_texts)]
