from django.contrib import admin

from sessions_app.casenotes.models import CaseNote, ConfidentialityAgreement
from sessions_app.groups.models import Facilitator, FacilitatorAssignment, Group, GroupMembership
from sessions_app.programs.models import Program, ProgramRole
from sessions_app.roster.models import Clinician, Invitation, RosterImport


class ProgramRoleInline(admin.TabularInline):
    model = ProgramRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("name", "academic_year", "department", "institution", "format", "timezone")
    list_filter = ("format", "academic_year")
    search_fields = ("name", "department", "institution", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ProgramRoleInline]


@admin.register(Clinician)
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "email", "discipline", "status", "program", "user")
    list_filter = ("program", "status", "discipline", "gender")
    search_fields = ("first_name", "last_name", "email")
    list_select_related = ("program", "user")
    raw_id_fields = ("user",)

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: the roster keeps its history.
        return False


@admin.register(Facilitator)
class FacilitatorAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "background", "program", "user")
    list_filter = ("program", "background")
    search_fields = ("name", "email")
    list_select_related = ("program", "user")
    raw_id_fields = ("user",)


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    raw_id_fields = ("clinician",)


class FacilitationInline(admin.TabularInline):
    model = FacilitatorAssignment
    extra = 0


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "program")
    list_filter = ("program",)
    inlines = [FacilitationInline, MembershipInline]


@admin.register(ProgramRole)
class ProgramRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "program")
    list_filter = ("role", "program")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "program")
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("clinician", "created_at", "expires_at", "used_at", "revoked_at")
    list_select_related = ("clinician",)
    readonly_fields = (
        "clinician",
        "token_hash",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
    )
    exclude = ()

    def has_add_permission(self, request):
        return False


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    list_display = ("filename", "program", "uploaded_by", "created_at", "committed_at")
    list_filter = ("program",)
    exclude = ("content",)
    readonly_fields = (
        "program",
        "uploaded_by",
        "filename",
        "created_at",
        "committed_at",
        "summary",
    )

    def has_add_permission(self, request):
        return False


# --- Case notes: metadata only --------------------------------------------------------------


@admin.register(CaseNote)
class CaseNoteAdmin(admin.ModelAdmin):
    """Site staff see that a note exists and its dates, never its content: the encrypted fields
    and the patient descriptor are left out of every admin page, and nothing can be changed
    here (the presenter deletes early; the retention task destroys)."""

    METADATA = ("id", "presentation", "visibility", "created_at", "destroy_after", "destroyed_at")
    list_display = ("__str__", "presentation", "visibility", "created_at", "destroy_after")
    list_filter = ("visibility",)
    list_select_related = ("presentation__clinician", "presentation__session__group")
    fields = METADATA
    readonly_fields = METADATA
    exclude = (*CaseNote.ENCRYPTED_FIELDS, "patient_age", "patient_gender")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConfidentialityAgreement)
class ConfidentialityAgreementAdmin(admin.ModelAdmin):
    list_display = ("user", "program", "accepted_at")
    list_filter = ("program",)
    list_select_related = ("user", "program")
    readonly_fields = ("program", "user", "accepted_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
