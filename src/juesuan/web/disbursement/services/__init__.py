"""The disbursement steps as database transactions: what the pages, the jobs and the commands call.

Each step runs in one transaction and takes row locks (`select_for_update`) on what it changes,
so two people doing the same thing at once are served one after the other: the first does it,
the second finds it done and is told so. Taking a step again (preparing a month already
prepared, importing a file already imported) changes nothing and says so. The rules — who may
take which step, what a bank result does to a payment, re-issue, the conservation balance — are
`juesuan.disbursement.transitions`; the computation is `compute.compute_month`; files are read
and written by `roster` and `banks`. This module persists, locks and logs.

Every step writes the audit log: who, what, before/after, counts and amounts, file hashes.

`JUESUAN_DISBURSE_CRASH_AT=<point>` makes the process end abruptly (`os._exit`) at that point
of a step: the crash test uses it to show that a step is all or nothing and a retried step
pays nobody twice. The points are listed in CRASH_POINTS.

The package, by step: `common` (the outcome a step reports, crash points, helpers), `schemes`
(a scheme by form or file, its history), `roster` (roster, events, payer account), `events`
(one event by form), `preview` (a change's effect on the next payment, before it is saved), `runs` (prepare, review, approve with the bank files, send back),
`results` (bank result files), `files` (the files approval and import write, as safe as their
rows; what crashes left), `corrections` (correction, re-issue, cancellation), `balance`
(conservation, stored payments, what waits for whom), `statistics` (figures per scheme, fund
request).
"""

from juesuan.web.disbursement.services.balance import (
    Conservation,
    conservation,
    month_status,
    payments_q,
    stored_balance,
    stored_payments,
    waiting,
)
from juesuan.web.disbursement.services.common import (
    CRASH_ENV,
    CRASH_POINTS,
    Outcome,
    copy_out,
    yuan,
)
from juesuan.web.disbursement.services.corrections import (
    cancel_payment,
    check_correction,
    enter_correction,
    prepare_supplementary_run,
    record_correction_reveal,
)
from juesuan.web.disbursement.services.files import check as check_files
from juesuan.web.disbursement.services.files import in_place, sweep
from juesuan.web.disbursement.services.preview import (
    Preview,
    next_month,
    next_month_and_why,
    office_years,
    preview,
)
from juesuan.web.disbursement.services.recoveries import (
    RecoveryTotals,
    approve_write_off,
    check_settlement,
    enter_settlement,
    receivables,
    recovery_totals,
)
from juesuan.web.disbursement.services.results import import_results
from juesuan.web.disbursement.services.roster import (
    core_schemes,
    import_roster,
    record_events,
    roster_frame,
    set_payer,
)
from juesuan.web.disbursement.services.runs import (
    PAYMENT_COLUMNS,
    approve_run,
    copy_payments,
    prepare_run,
    review_run,
    send_back_run,
)
from juesuan.web.disbursement.services.schemes import import_schemes
from juesuan.web.disbursement.services.statistics import (
    fund_request,
    ledger_postings,
    monthly_figures,
    unit_schemes,
    yearly_figures,
)

__all__ = [
    "CRASH_ENV",
    "CRASH_POINTS",
    "PAYMENT_COLUMNS",
    "Conservation",
    "Outcome",
    "Preview",
    "RecoveryTotals",
    "approve_run",
    "approve_write_off",
    "cancel_payment",
    "check_correction",
    "check_files",
    "check_settlement",
    "conservation",
    "copy_out",
    "copy_payments",
    "core_schemes",
    "enter_correction",
    "enter_settlement",
    "fund_request",
    "import_results",
    "import_roster",
    "import_schemes",
    "in_place",
    "ledger_postings",
    "month_status",
    "monthly_figures",
    "next_month",
    "next_month_and_why",
    "office_years",
    "payments_q",
    "prepare_run",
    "prepare_supplementary_run",
    "preview",
    "receivables",
    "record_correction_reveal",
    "record_events",
    "recovery_totals",
    "review_run",
    "roster_frame",
    "send_back_run",
    "set_payer",
    "stored_balance",
    "stored_payments",
    "sweep",
    "unit_schemes",
    "waiting",
    "yearly_figures",
    "yuan",
]
