"""Version 1 of every consent notice, in Turkish and English."""

import hashlib

from django.db import migrations

TEXTS = {
    "appointment_health_data": (
        "Randevu oluşturabilmeniz için randevu nedeniniz, muayene türünüz ve randevu bilgisinin kendisi "
        "(sağlık verisi niteliğindeki kişisel verileriniz) KVKK m.6 uyarınca açık rızanıza dayanılarak "
        "işlenir ve yalnızca randevu aldığınız hekime ve sağlık kuruluşuna aktarılır. Rızanızı dilediğiniz "
        "zaman geri alabilirsiniz; bu durumda gelecekteki randevularınız iptal edilir ve randevu nedenleriniz silinir.",
        "To book an appointment, your visit reason, exam type and the fact of the visit (health data) are "
        "processed on your explicit consent under KVKK Art. 6 and passed only to the doctor and clinic you "
        "book with. You can withdraw at any time; your future appointments are then cancelled and your visit "
        "reasons erased.",
    ),
    "health_profile_storage": (
        "Alerjileriniz, ilaçlarınız, hastalıklarınız ve tedavileriniz (sağlık profiliniz) açık rızanıza "
        "dayanılarak şifrelenmiş olarak saklanır. Rızanızı geri aldığınızda sağlık profilinizdeki tüm kayıtlar "
        "ve tüm paylaşımlar silinir.",
        "Your allergies, medications, conditions and treatments (your health profile) are stored encrypted on "
        "your explicit consent. When you withdraw it, every entry of your health profile and every share is deleted.",
    ),
    "health_profile_share": (
        "Sağlık profilinizin seçtiğiniz kategorileri, seçtiğiniz hekimle, belirlediğiniz süre boyunca açık "
        "rızanıza dayanılarak paylaşılır. Hekimin her görüntülemesi kayıt altına alınır ve size gösterilir. "
        "Rızanızı geri aldığınızda hekimin erişimi derhal sona erer.",
        "The categories of your health profile you choose are shared with the doctor you choose, for the time "
        "you set, on your explicit consent. Every view by the doctor is logged and shown to you. When you "
        "withdraw, the doctor's access ends at once.",
    ),
    "review_publication": (
        "Hekim değerlendirmenizin, seçtiğiniz gösterim biçimiyle (baş harfler veya anonim) yayımlanmasına açık "
        "rıza verirsiniz. Rızanızı geri aldığınızda değerlendirmeleriniz yayından kaldırılır ve silinir.",
        "You consent to your doctor review being published with the display you choose (initials or "
        "anonymous). When you withdraw, your reviews are unpublished and deleted.",
    ),
    "marketing_messages": (
        "Kampanya ve bilgilendirme amaçlı SMS, WhatsApp ve e-posta iletileri almayı kabul edersiniz. "
        "Dilediğiniz zaman geri alabilirsiniz.",
        "You agree to receive marketing messages by SMS, WhatsApp and e-mail. You can withdraw at any time.",
    ),
}


def add_texts(apps, schema_editor):
    ConsentText = apps.get_model("privacy", "ConsentText")
    for purpose, (turkish, english) in TEXTS.items():
        for language, text in (("tr", turkish), ("en", english)):
            ConsentText.objects.get_or_create(
                purpose=purpose,
                version=1,
                language=language,
                defaults={"text": text, "content_hash": hashlib.sha256(text.encode()).hexdigest()},
            )


def remove_texts(apps, schema_editor):
    apps.get_model("privacy", "ConsentText").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_append_only_triggers")]
    operations = [migrations.RunPython(add_texts, remove_texts)]
