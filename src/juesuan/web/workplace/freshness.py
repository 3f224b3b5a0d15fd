"""Whether the packages built for a unit-year still match its payments (代发).

A package takes its performance actuals from the unit's payments as they were when it was built
(`analysis.payment_actuals`); paying a month, importing a bank result or sending a run back may
change them. Each package keeps the payments stamp and the figures it used (`Build.payments`);
a package whose stamp is not the current one is out of date, and the figures that differ from
what the payments give now are named, so nothing changes silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from juesuan.web.workplace import analysis
from juesuan.web.workplace.models import Build


def figures_of(actuals: analysis.PaymentActuals | None) -> dict[str, str]:
    """The figures taken from the payments, "项目 · 名称" → value as text."""
    if actuals is None:
        return {}
    return {
        f"{project} · {name}": str(value)
        for (project, name), value in sorted(actuals.measures.values.items())
    }


def recorded(stamp: str, actuals: analysis.PaymentActuals | None) -> dict:
    """What a new package keeps in `Build.payments`."""
    return {"stamp": stamp, "figures": figures_of(actuals)}


@dataclass(frozen=True)
class Staleness:
    builds: tuple[Build, ...]  # packages whose figures from the payments are no longer so
    changed: tuple[str, ...]  # figures that differ in the newest of them ("项目 · 名称")
    latest: bool  # the unit-year's newest package is among them (a rebuild is due)

    @property
    def numbers(self) -> list[int]:
        return sorted(b.number for b in self.builds)


def stale_builds(unit, year: int) -> Staleness | None:
    """The unit-year's packages whose figures from the payments are not what the payments give
    now, or None. A package built with the current payments stamp is current without looking."""
    stamp = analysis.payments_stamp(unit.pk, year)
    builds = Build.objects.filter(unit=unit, year=year).order_by("-number")
    listed = list(builds.only("pk", "number", "payments"))
    earlier = [b for b in listed if _stamp(b) != stamp]
    if not earlier:
        return None
    now = _current_figures(unit, year, stamp)
    stale = tuple(b for b in earlier if b.payments.get("figures", {}) != now)
    if not stale:
        return None
    then = stale[0].payments.get("figures", {})
    changed = tuple(
        name for name in sorted(set(now) | set(then)) if now.get(name) != then.get(name)
    )
    return Staleness(stale, changed, latest=stale[0] is listed[0])


def _stamp(build: Build) -> str:
    return (build.payments or {}).get("stamp", "")


def _current_figures(unit, year: int, stamp: str) -> dict[str, str]:
    """The figures the payments give now, kept under their stamp (a page reload reads none)."""
    if not stamp:
        return {}
    key = f"juesuan:payment-figures:{unit.pk}:{year}:{stamp}"
    found = cache.get(key)
    if found is None:
        found = figures_of(analysis.payment_actuals(unit, year))
        cache.set(key, found, 3600)
    return found
