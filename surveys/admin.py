from django.contrib import admin

from .models import Choice, Instrument, Question, Section


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "version", "published_at", "created_at")
    list_filter = ("slug",)
    search_fields = ("name", "slug")


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ("title", "instrument", "order")
    list_filter = ("instrument",)
    list_select_related = ("instrument",)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("code", "type", "required", "section", "instrument", "order")
    list_filter = ("instrument", "type")
    search_fields = ("code", "text")
    list_select_related = ("section", "instrument")


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    list_display = ("value", "label", "question", "order")
    search_fields = ("value", "label", "question__code")
    list_select_related = ("question",)
