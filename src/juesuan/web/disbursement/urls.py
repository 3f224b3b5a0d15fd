"""The disbursement pages, under /u/<unit_id>/pay/ (the unit comes from the including path)."""

from __future__ import annotations

from django.urls import path

from juesuan.web.disbursement import person_views, views

app_name = "pay"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("schemes/import/", views.schemes_import, name="schemes_import"),
    path("schemes/new/", views.scheme_edit, name="scheme_new"),
    path("schemes/export.yaml", views.schemes_export, name="schemes_export"),
    path("schemes/<str:code>/", views.scheme_edit, name="scheme"),
    path("schemes/<str:code>/payer/", views.scheme_payer, name="scheme_payer"),
    path("roster/", views.roster, name="roster"),
    path("people/<str:key>/", person_views.person, name="person"),
    path("roster/import/", views.roster_import, name="roster_import"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("events/", views.events, name="events"),
    path("events/new/<int:person>/", views.event_new, name="event_new"),
    path("events/import/", views.events_import, name="events_import"),
    path("events/template.xlsx", views.events_template, name="events_template"),
    path("runs/", views.runs, name="runs"),
    path("runs/prepare/", views.run_prepare, name="run_prepare"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/review/", views.run_review, name="run_review"),
    path("runs/<int:run_id>/approve/", views.run_approve, name="run_approve"),
    path("runs/<int:run_id>/send-back/", views.run_send_back, name="run_send_back"),
    path("runs/<int:run_id>/files/<int:file_id>/", views.bank_file, name="bank_file"),
    path("results/", views.results, name="results"),
    path("results/import/", views.results_import, name="results_import"),
    path("results/<int:import_id>/", views.result_detail, name="result"),
    path("returns/", views.returns, name="returns"),
    path("returns/<int:payment_id>/correct/", views.correction_enter, name="correction_enter"),
    path("returns/<int:payment_id>/cancel/", views.payment_cancel, name="payment_cancel"),
    path("corrections/<int:correction_id>/check/", views.correction_check, name="correction_check"),
    path(
        "corrections/<int:correction_id>/reveal/",
        views.correction_reveal,
        name="correction_reveal",
    ),
    path("returns/supplementary/", views.supplementary, name="supplementary"),
    path("recoveries/", views.recoveries, name="recoveries"),
    path("recoveries/<int:recovery_id>/settle/", views.recovery_settle, name="recovery_settle"),
    path(
        "recoveries/settlements/<int:settlement_id>/check/",
        views.recovery_check,
        name="recovery_check",
    ),
    path(
        "recoveries/settlements/<int:settlement_id>/approve/",
        views.recovery_approve,
        name="recovery_approve",
    ),
    path("stats/", views.stats, name="stats"),
    path("stats/fund-request/<str:month>.xlsx", views.fund_request, name="fund_request"),
    path("stats/ledger/<int:year>.xlsx", views.ledger, name="ledger"),
    path("balance/", views.balance, name="balance"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/status.json", views.job_status, name="job_status"),
]
