"""Every URL of the app. Unit pages live under /u/<unit>/ and check the user's roles there."""

from __future__ import annotations

from django.urls import include, path

from juesuan.web.accounts import views as accounts
from juesuan.web.workplace import published
from juesuan.web.workplace import views as workplace

unit = "u/<int:unit_id>/"
year = unit + "<int:year>/"

urlpatterns = [
    path("", workplace.home, name="home"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("password/", accounts.password_view, name="password"),
    path("template.xlsx", workplace.template_download, name="template"),
    path("published/", published.published_audit, name="published_audit"),
    path("published/status.json", published.published_audit_status, name="published_audit_status"),
    path(
        "published/report.<str:fmt>",
        published.published_audit_download,
        name="published_audit_download",
    ),
    path("manage/", accounts.manage, name="manage"),
    path("manage/users/", accounts.user_create, name="user_create"),
    path("manage/users/<int:user_id>/", accounts.user_update, name="user_update"),
    path("manage/units/", accounts.unit_create, name="unit_create"),
    path("manage/grants/", accounts.grant_add, name="grant_add"),
    path("manage/grants/<int:grant_id>/remove/", accounts.grant_remove, name="grant_remove"),
    path("manage/log/", accounts.audit_log, name="audit_log"),
    path(unit, workplace.unit_page, name="unit"),
    path(unit + "pay/", include("juesuan.web.disbursement.urls")),
    path(unit + "upload/", workplace.upload, name="upload"),
    path(unit + "consolidate/", workplace.consolidate, name="consolidate"),
    path(unit + "log/", workplace.unit_log, name="unit_log"),
    path(unit + "jobs/<uuid:job_id>/", workplace.job_page, name="job"),
    path(unit + "jobs/<uuid:job_id>/status.json", workplace.job_status, name="job_status"),
    path(year, workplace.dashboard, name="dashboard"),
    path(year + "versions/", workplace.versions, name="versions"),
    path(year + "versions/<int:number>/", workplace.version_report, name="version_report"),
    path(
        year + "versions/<int:number>/download/",
        workplace.version_download,
        name="version_download",
    ),
    path(year + "tables/", workplace.tables, name="tables"),
    path(
        year + "tables/<str:table_id>/cell/<int:section>/<int:row>/<int:column>/",
        workplace.cell,
        name="cell",
    ),
    path(year + "checks/", workplace.checks, name="checks"),
    path(year + "texts/", workplace.texts, name="texts"),
    path(year + "builds/", workplace.builds, name="builds"),
    path(year + "builds/<int:number>/", workplace.build_detail, name="build"),
    path(year + "builds/<int:number>/zip/", workplace.build_zip, name="build_zip"),
    path(
        year + "builds/<int:number>/files/<int:index>/",
        workplace.build_file,
        name="build_file",
    ),
    path(year + "builds/<int:number>/approve/", workplace.build_approve, name="build_approve"),
]

handler403 = "juesuan.web.views.forbidden"
handler404 = "juesuan.web.views.not_found"
handler500 = "juesuan.web.views.server_error"
