"""The payment table: a payment is re-issued at most once — the database holds that too, with
an index over the re-issues alone — and the run's totals are those of its stored payments."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from juesuan.disbursement import model as core
from juesuan.web.disbursement.models import Payment
from web.test_disbursement_support import approved_run

pytestmark = pytest.mark.django_db(transaction=True)
MARCH = core.Month(2020, 3)


def test_the_database_refuses_a_second_reissue_of_a_payment(world, tmp_path):
    run = approved_run(world, tmp_path, MARCH, people=3)
    original, reissue, another = Payment.objects.filter(run=run).order_by("pk")[:3]
    Payment.objects.filter(pk=reissue.pk).update(reissue_of=original)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=another.pk).update(reissue_of=original)
    assert list(original.reissued_as.all()) == [reissue]
    # the payments that re-issue nothing, as many as they are
    assert Payment.objects.filter(run=run, reissue_of__isnull=True).count() == run.count - 1


def test_a_prepared_runs_totals_are_those_of_its_stored_payments(world, tmp_path):
    run = approved_run(world, tmp_path, MARCH, people=7)
    stored = (
        Payment.objects.filter(run=run)
        .values("scheme__code")
        .annotate(n=Count("id"), s=Sum("amount"))
    )
    assert run.totals == {r["scheme__code"]: {"count": r["n"], "amount": r["s"]} for r in stored}
    assert (run.count, run.total) == (sum(r["n"] for r in stored), sum(r["s"] for r in stored))
    assert len(run.totals) == 2
