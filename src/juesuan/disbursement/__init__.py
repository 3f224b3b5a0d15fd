"""Benefits paid on others' behalf (代发 / 统筹外待遇): see docs.md in this folder.

The public entry points most callers need:

- `schemes.load_schemes(path) -> Schemes` — the 补贴类别 and their standards.
- `roster.read_roster(source, schemes) -> RosterImport`, `roster.read_events(...) -> EventsImport`,
  `roster.write_template(path, kind)` — the 花名册 and 人员变动 from Excel/CSV.
- `compute.compute_month(schemes, roster, events, month, history) -> Computed` — one month's
  payments (standard, 补发, 追回), vectorised with polars for the ordinary case.
- `transitions` — the rules of a run (经办 → 复核 → 审批) and of a payment (bank result,
  correction, re-issue, cancellation) and the conservation `balance`; `book.Book` keeps that
  state in memory.
- `banks` — bank batch files out, result files in; `statistics` — figures, the fund request,
  ledger postings; `year` — the example's 2020 run month by month.
"""
