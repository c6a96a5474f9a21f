from django.contrib import admin

from standing.models import NoShowPolicy

# Strikes, appeals and blocks change only through standing.services (locked, audited, the patient
# told); an appeal's reason is shown to staff only through its audited read. Not in the admin.


@admin.register(NoShowPolicy)
class NoShowPolicyAdmin(admin.ModelAdmin):
    list_display = ["clinic", "strikes_to_block", "block_days", "updated_at"]
    search_fields = ["clinic__name"]
    autocomplete_fields = ["clinic"]
