"""Return reasons (退回原因): ISO 20022 status reason codes with the Chinese text clerks read.

The ISO name stands beside each code so the mapping can be checked against the external code list
(ExternalStatusReason1Code). Bank wording in text result files is mapped to these codes by each
adapter's `result.reasons`; wording that no adapter knows is kept as NARR with the bank's words.
"""

from __future__ import annotations

from juesuan.disbursement.banks.values import Reason

NARRATIVE = "NARR"

REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason("AC01", "账号错误", "IncorrectAccountNumber"),
        Reason("AC03", "收款账号无效", "InvalidCreditorAccountNumber"),
        Reason("AC04", "账户已销户", "ClosedAccountNumber"),
        Reason("AC06", "账户冻结", "BlockedAccount"),
        Reason("AG01", "账户不允许此类交易", "TransactionForbidden"),
        Reason("AM04", "余额不足", "InsufficientFunds"),
        Reason("AM05", "重复付款", "Duplication"),
        Reason("BE01", "户名与账号不符", "InconsistentWithEndCustomer"),
        Reason("MD07", "收款人已死亡", "EndCustomerDeceased"),
        Reason("RC01", "开户行信息错误", "BankIdentifierIncorrect"),
        Reason("RR01", "缺少付款人账户或身份信息", "MissingDebtorAccountOrIdentification"),
        Reason("MS03", "银行未说明原因", "NotSpecifiedReasonAgentGenerated"),
        Reason(NARRATIVE, "其他原因（见银行说明）", "Narrative"),
    )
}


def reason(code: str) -> Reason:
    """The Reason for `code`; an unknown code is returned as such, with a text that says so."""
    found = REASONS.get(code.strip().upper())
    return found or Reason(code, f"未知退回原因代码 {code}", "")
