"""Parts of pages that depend only on an immutable dataset version, kept in Django's cache.

A stored version never changes (its file is checked against its SHA-256 when read), so what is
computed from it alone — a table's rendered grid, the grouped check outcomes, the generated
情况说明 — is cached under a key naming the version's id and hash, its unit and year (they appear
in links) and a stamp of the code and templates that drew it. The checks and the 情况说明 also
depend on the unit's payments of the year (performance actuals, analysis.py), so their keys add
the payments stamp: a bank result file imported since gives a new key. A new version has a new
key, so no entry is ever invalidated by hand; old ones age out. Local memory per server process by default,
Redis when JUESUAN_CACHE_URL is set (settings.py).

The dashboard's body also shows the unit-year's activity and the viewer's roles, so it is kept
under a key naming those too (`dashboard_key`): the latest audit entry's hash (whatever changes
the build, activity or readiness shown is logged), the payments stamp, the roles and the names
shown. Its forms' CSRF token is never cached: the fragment holds a slot, filled in for each
request (`with_csrf`).

Nothing else here depends on who asks: permission checks, the session, CSRF tokens and the
role-dependent masking of personal data happen on every request outside these parts. The
fragments are rendered without a request, so no context processor (user, token) can leak in.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from juesuan.statements.build import FormatError, load_format
from juesuan.web import csrf
from juesuan.web.workplace import analysis

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE.parent / "templates" / "juesuan"
TABLE_BODY = "juesuan/_table_body.html"
DASHBOARD_BODY = "juesuan/_dashboard_body.html"
# A cached fragment's forms are drawn with this in place of the CSRF token; the field drawn
# with it (`csrf_slot`) is markup no escaped data can produce, and it is replaced by the
# request's own field when the page is sent (`with_csrf`).
CSRF_SLOT_TOKEN = "csrf-slot"

# Formats' names as users read them, for tables.yaml files without a `title`.
FORMAT_TITLES = {
    "sichuan-2020": "四川省2020年度部门决算公开格式",
    "national-9": "全国通用部门决算公开格式（九张表）",
}


@functools.cache
def stamp() -> str:
    """Changes whenever the code or a template that draws a cached part changes, so a deployed
    change never serves a part drawn by the previous code (a shared Redis outlives processes)."""
    from juesuan import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in (
        HERE / "pages.py",
        HERE / "analysis.py",
        HERE / "templatetags" / "juesuan.py",
        HERE / "views.py",  # the dashboard's next steps
        TEMPLATES / "_table_body.html",
        TEMPLATES / "_dashboard_body.html",
        TEMPLATES / "_unit_header.html",
        TEMPLATES / "_stale.html",
    ):
        try:
            digest.update(path.read_bytes())
        except OSError:  # installed without sources: the package version alone
            pass
    return digest.hexdigest()[:12]


def version_key(version, part: str, *extra: object) -> str:
    return ":".join(
        (
            "page",
            stamp(),
            str(version.pk),
            version.sha256[:24],
            str(version.unit_id),
            str(version.year),
            part,
            *(str(e) for e in extra),
        )
    )


def _cached(key: str, compute: Callable[[], object]):
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value)
    return value


def format_title(name: str) -> str:
    """A format's Chinese name: its tables.yaml `title`, else the known name, else one made of its
    region and year; the folder name only when the format cannot be read."""
    try:
        spec = load_format(name)
    except FormatError:
        return FORMAT_TITLES.get(name, name)
    if spec.get("title"):
        return str(spec["title"])
    if name in FORMAT_TITLES:
        return FORMAT_TITLES[name]
    region, year = spec.get("region"), spec.get("year")
    return f"{region}{year}年度部门决算公开格式" if region and year else name


# ---- the tables page -----------------------------------------------------------------------------


def table_index(version) -> dict:
    """The version's format (its Chinese name) and tables: id, number, title, empty.
    Raises analysis.VersionUnreadable when the stored file cannot be read."""

    def compute() -> dict:
        _dataset, prepared = analysis.prepared_for(version)
        statements = prepared.statements
        return {
            "format": format_title(statements.format),
            "tables": [
                {"id": t.id, "number": t.number, "title": t.title, "empty": t.empty}
                for t in statements.tables
            ],
        }

    return _cached(version_key(version, "tables"), compute)


def table_body(version, table_id: str) -> SafeString:
    """The tables page's body for one table: the list of tables and the table drawn as the
    published layout, every amount linked to its drill-down page."""

    def compute() -> str:
        dataset, prepared = analysis.prepared_for(version)
        table = prepared.statements.table(table_id)
        if table is None:
            raise LookupError(table_id)
        return render_to_string(
            TABLE_BODY,
            {
                "unit_id": version.unit_id,
                "year": version.year,
                "index": table_index(version),
                "table": table,
                "grid": analysis.web_table(table, dataset.unit.name, dataset.unit.year),
            },
        )

    return mark_safe(_cached(version_key(version, "table", table_id), compute))


# ---- checks and the generated 情况说明 ----------------------------------------------------------


def checks(version) -> dict:
    """{"summary": …, "groups": analysis.grouped_outcomes(…), "actuals": where the performance
    actuals came from (analysis.actuals_summary) or None} of the version."""
    stamp = analysis.payments_stamp(version.unit_id, version.year)

    def compute() -> dict:
        found = analysis.analysed(version, stamp)
        actuals = found.actuals
        return {
            "summary": found.prepared.summary,
            "groups": analysis.grouped_outcomes(found.prepared),
            "actuals": analysis.actuals_summary(found.dataset, actuals) if actuals else None,
        }

    return _cached(version_key(version, "checks", stamp or "-"), compute)


def explanation(version) -> list[dict]:
    """The generated 情况说明 of the version (analysis.explanation), the slowest part of the texts
    page: the whole document is assembled for it."""
    stamp = analysis.payments_stamp(version.unit_id, version.year)

    def compute() -> list[dict]:
        found = analysis.analysed(version, stamp)
        return analysis.explanation(found.dataset, found.prepared)

    return _cached(version_key(version, "explanation", stamp or "-"), compute)


# ---- the dashboard -------------------------------------------------------------------------------


def dashboard_key(access, year: int, version, activity_stamp: str, payments_stamp: str) -> str:
    """Everything the dashboard's body shows depends on: the unit's and its parent's names (the
    header), the version (and who stored it), the latest audit entry (builds, approvals,
    uploads and texts are all logged), the payments stamp (readiness and out-of-date packages
    when the unit pays benefits), the viewer's roles (badges, the upload form, masking) and
    whether the unit above opens for them; times are shown in the time zone and language."""
    unit = access.unit
    parent = unit.parent
    shown = (
        "dashboard",
        stamp(),
        settings.TIME_ZONE,
        translation.get_language() or "",
        unit.pk,
        unit.name,
        parent.pk if parent else "",
        parent.name if parent else "",
        year,
        f"{version.pk}.{version.sha256[:24]}.{version.created_by}" if version else "-",
        activity_stamp or "-",
        payments_stamp or "-",
        ",".join(sorted(access.roles)),
        int(access.opens_parent),
    )
    # the names are free text: hashed, so the key stays short and within any backend's rules
    return "page:dashboard:" + hashlib.sha256(repr(shown).encode()).hexdigest()


def dashboard_body(key: str | None, draw: Callable[[], tuple[dict, bool]]) -> str:
    """The dashboard's body (a slot for its forms' CSRF token): from the cache under `key`,
    else drawn from the context `draw` gives with whether it may be kept (not when the state
    moved while it was read); a None key keeps nothing (a job is running)."""
    body = cache.get(key) if key else None
    if body is None:
        context, keep = draw()
        body = render_to_string(DASHBOARD_BODY, {**context, "csrf_token": CSRF_SLOT_TOKEN})
        if key and keep:
            cache.set(key, body)
    return body


@functools.cache
def csrf_slot() -> str:
    """The field {% csrf_token %} draws in a fragment rendered with CSRF_SLOT_TOKEN."""
    return Template("{% csrf_token %}").render(Context({"csrf_token": CSRF_SLOT_TOKEN}))


def with_csrf(body: str, request) -> SafeString:
    """A cached fragment with the request's own CSRF field in its slots."""
    slot = csrf_slot()
    if slot in body:
        body = body.replace(slot, csrf.field(request))
    return mark_safe(body)
