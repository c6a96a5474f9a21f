from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django_otp.admin import OTPAdminSite

from accounts.login_forms import AdminLoginForm
from accounts.models import Clinic, ClinicMembership, Doctor, Specialty, User

# The admin asks for a second factor: only a session verified by a confirmed TOTP device or a
# recovery code gets in (django-otp's documented switch), and its login form obeys the login limits.
admin.site.__class__ = OTPAdminSite
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["masked_national_id", "last_login", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "language", "masked_national_id"]}),
        ("Access", {"fields": ["role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "first_name", "last_name", "role", "password1", "password2"]})
    ]


class MembershipInline(admin.TabularInline):
    model = ClinicMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "timezone"]
    search_fields = ["name", "city"]
    inlines = [MembershipInline]


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_tr", "name_en"]
    search_fields = ["slug", "name_tr", "name_en"]


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "specialty", "registration_number", "is_active", "rating_count"]
    list_filter = ["specialty", "is_active"]
    search_fields = ["user__first_name", "user__last_name", "registration_number"]
    autocomplete_fields = ["user", "clinics"]
    readonly_fields = ["rating_sum", "rating_count"]
