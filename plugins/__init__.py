"""zhubaodai: double-entry books for 助保贷 loan-guarantee fund pools, on Beancount.

The rule engine (:mod:`zhubaodai.core.engine`) reads a ledger and rules.yaml and returns
findings and the pool's state; the Beancount plugin (:mod:`zhubaodai.plugin`), the CLI,
the Fava extension, the importers and the reports are thin faces over it.
"""
