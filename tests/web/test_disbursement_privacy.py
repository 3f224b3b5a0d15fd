"""Privacy of the people paid: payment numbers carry a person key, never the 公民身份号码; a
payment sent before keys is still answered by its old number; lists and logs show identity and
account numbers masked, the person's page shows them in full on request to the roles that work
with them, and each such look is in the audit log."""

from __future__ import annotations

import pytest
from django.conf import settings

from juesuan.disbursement import model as core
from juesuan.disbursement.banks import PAID, BatchHeader, Outcome, get_adapter
from juesuan.disbursement.banks import write_results as bank_writes
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Payment, PersonKey, Run
from web.test_disbursement_support import account, approved_run, person_id, set_up_unit

pytestmark = pytest.mark.django_db(transaction=True)
MARCH = core.Month(2020, 3)


@pytest.fixture
def approved(world, tmp_path) -> Run:
    return approved_run(world, tmp_path, MARCH, people=6)


def test_every_person_of_the_roster_has_a_key_in_order(world, approved):
    keys = dict(PersonKey.objects.filter(unit=world.unit).values_list("person_id", "key"))
    assert sorted(keys) == sorted(person_id(n) for n in range(6))
    assert sorted(keys.values()) == [core.person_key(n) for n in range(1, 7)]


def test_bank_files_carry_person_keys_and_no_identity_number(world, approved):
    for bank_file in approved.bank_files.all():
        text = (settings.MEDIA_ROOT / bank_file.path).read_text(encoding="gb18030")
        for n in range(6):
            assert person_id(n) not in text
        payments = Payment.objects.filter(run=approved, scheme__code=bank_file.scheme)
        # rows in key order: by identity number, month, sequence
        in_order = payments.order_by("person_id", "month", "sequence")
        places = [text.index(p.reference) for p in in_order]
        assert places == sorted(places) and len(places) > 1
        for payment in payments:
            assert payment.reference in text
            assert payment.reference.split("-")[1].startswith("P")
            # the format's 身份证号 column still gets the masked number it asks for
            masked = payment.person_id[:6] + "********" + payment.person_id[-4:]
            assert masked in text


def test_payees_the_roster_gave_no_key_get_theirs_at_approval(world, tmp_path):
    clerk = world.users["clerk"]
    set_up_unit(world.unit, clerk, tmp_path, people=6)
    run_id = services.prepare_run(world.unit, clerk, MARCH).data["run"]
    assert services.review_run(world.unit, world.users["reviewer"], run_id).changed
    PersonKey.objects.filter(unit=world.unit, person_id__in=[person_id(1), person_id(4)]).delete()
    assert services.approve_run(world.unit, world.users["approver"], run_id).changed
    keys = dict(PersonKey.objects.filter(unit=world.unit).values_list("person_id", "key"))
    assert sorted(keys) == sorted(person_id(n) for n in range(6))
    # the next keys after the highest, in order of identity number; none given twice
    assert keys[person_id(1)] == core.person_key(7) and keys[person_id(4)] == core.person_key(8)
    run = Run.objects.get(pk=run_id)
    for bank_file in run.bank_files.all():
        text = (settings.MEDIA_ROOT / bank_file.path).read_text(encoding="gb18030")
        for payment in Payment.objects.filter(run=run, scheme__code=bank_file.scheme):
            assert f"-{keys[payment.person_id]}-" in text


def test_a_payment_sent_before_keys_is_answered_by_its_old_number(world, approved, tmp_path):
    qyjs = list(Payment.objects.filter(run=approved, scheme__code="QYJS").order_by("person_id"))
    old = [f"QYJS-{p.person_id}-202003-1" for p in qyjs]  # the numbers sent before keys
    header = BatchHeader("单位", "1", "银行", "U", "B1", "QYJS", MARCH, MARCH.first_day())
    path = tmp_path / "old-numbers.csv"
    outcomes = [Outcome(ref, p.amount, PAID) for ref, p in zip(old, qyjs, strict=True)]
    assert bank_writes(get_adapter("generic-csv"), header, outcomes, path).ok
    outcome = services.import_results(
        world.unit, world.users["clerk"], path, adapter_id="generic-csv"
    )
    assert outcome.ok and outcome.data["paid"] == len(qyjs), outcome.message
    assert {p.status for p in Payment.objects.filter(pk__in=[p.pk for p in qyjs])} == {PAID}


def test_messages_and_logs_show_the_identity_number_masked(world, approved):
    payment = Payment.objects.filter(run=approved).first()
    assert payment.person_id not in payment.key.label
    assert (
        payment.key.label.split("-")[1] == payment.person_id[:4] + "*" * 10 + payment.person_id[-4:]
    )
    assert account(0) not in str(services.conservation(world.unit).problems)


def test_lists_mask_and_the_persons_page_reveals_once_asked_and_logged(client, world, approved):
    from django.urls import reverse

    from juesuan.web.audit.models import AuditEntry

    unit, clerk = world.unit, world.users["clerk"]
    client.force_login(clerk)  # 经办 works with the numbers, and still sees lists masked
    roster = client.get(reverse("pay:roster", args=[unit.pk])).content.decode()
    assert person_id(0) not in roster and account(0) not in roster
    assert person_id(0)[:4] + "*" * 10 + person_id(0)[-4:] in roster
    key = PersonKey.objects.get(unit=unit, person_id=person_id(0)).key
    page_url = reverse("pay:person", args=[unit.pk, key])
    assert page_url in roster  # the name leads to the person's page
    page = client.get(page_url).content.decode()
    assert person_id(0) not in page and account(0) not in page and "显示完整" in page
    assert not AuditEntry.objects.filter(action="pay_person_reveal").exists()
    shown = client.post(page_url).content.decode()
    assert person_id(0) in shown and account(0) in shown
    entry = AuditEntry.objects.get(action="pay_person_reveal")
    assert entry.target == key and entry.user_id == clerk.pk
    # a role that does not work with personal data sees no button and may not ask
    finance = world.users["finance"]
    client.force_login(finance)
    assert client.post(page_url).status_code in (403, 404)
