"""The audit-log actions of the disbursement steps, with their Chinese names (kept apart from
services so that naming them at start-up loads nothing heavy)."""

from __future__ import annotations

ACTIONS = {
    "pay_schemes": "导入补贴类别",
    "pay_roster": "导入花名册",
    "pay_roster_rejected": "花名册未导入",
    "pay_events": "录入人员变动",
    "pay_prepare": "生成发放批次",
    "pay_review": "复核发放批次",
    "pay_approve": "审批发放批次",
    "pay_send_back": "退回发放批次",
    "pay_results": "导入银行回盘",
    "pay_results_rejected": "银行回盘未导入",
    "pay_correct": "录入更正信息",
    "pay_check_correction": "复核更正信息",
    "pay_supplementary": "生成补发批次",
    "pay_cancel": "取消付款",
    "pay_recovery_enter": "登记追回",
    "pay_recovery_check": "复核追回登记",
    "pay_recovery_approve": "审批核销",
    "pay_download": "下载银行文件",
    "pay_person_reveal": "查看完整个人信息",
    "pay_correction_reveal": "查看更正后的完整账号",
}
