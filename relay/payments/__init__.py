"""Payments matched to deals: the decision, the ledger of operation↔deal links, review and report.

Nothing here knows a bank's or a CRM's wire format. A CRM connector's action looks candidates up
(`connectors/bitrix24/payments*.py`), `matching.decide` picks one or sends the payment to review,
`ledger.Ledger` keeps which operation paid which deal (and derives paid sums from those links, so a
replay never counts twice), `report` builds the per-project finance report (S16).
"""
