"""An approval whose bank file cannot be written changes nothing, outside a surrounding
transaction as a page's job or a command runs it: on PostgreSQL its files are then written in a
thread beside the UPDATE that marks the payments sent, elsewhere after it."""

from __future__ import annotations

import pytest
from django.conf import settings

from juesuan.disbursement import model as core
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import BankFile, Payment, Run
from juesuan.web.disbursement.services import files
from juesuan.web.disbursement.services.common import sha256_file
from web.test_disbursement_support import person_id, set_up_unit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bank_file_refused_leaves_the_run_unapproved_and_nothing_in_place(world, tmp_path):
    unit, users = world.unit, world.users
    set_up_unit(unit, users["clerk"], tmp_path, people=6)
    run_id = services.prepare_run(unit, users["clerk"], core.Month(2020, 3)).data["run"]
    assert services.review_run(unit, users["reviewer"], run_id).changed
    run = Run.objects.get(pk=run_id)
    payee = Payment.objects.filter(run=run, person_id=person_id(2))
    name = payee.values_list("name", flat=True).first()
    payee.update(name="=HYPERLINK(1)")  # a formula: no bank file carries it (CSV injection)

    refused = services.approve_run(unit, users["approver"], run_id)

    assert not refused.ok and not refused.changed
    assert "银行文件无法生成" in refused.message and refused.problems
    run.refresh_from_db()
    assert run.step == core.REVIEWED
    assert set(run.payments.values_list("status", flat=True)) == {core.PENDING}
    assert not BankFile.objects.filter(run=run).exists()
    folder = settings.MEDIA_ROOT / files.run_folder(run)
    placed = [p for p in folder.rglob("*") if p.is_file() and files.PENDING not in p.parts]
    assert placed == []
    # what the refused approval wrote beside its places, no record names: swept before the next
    files.sweep(unit)
    assert [p for p in folder.rglob("*") if p.is_file()] == []

    payee.update(name=name)
    approved = services.approve_run(unit, users["approver"], run_id)
    assert approved.ok and approved.changed, approved.message
    run.refresh_from_db()
    assert run.step == core.APPROVED
    written = BankFile.objects.filter(run=run)
    assert written.count() == len(run.schemes)
    for bank_file in written:
        path = settings.MEDIA_ROOT / bank_file.path
        assert sha256_file(path) == bank_file.sha256
    assert services.conservation(unit).ok
