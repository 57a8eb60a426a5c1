"""The issue-6 workloads W1-W7, the machine-limit probes and the shared timing harness.

Each workload module has ``run(ctx: Context) -> list[Row]``; ``bench/run.py`` calls them in
order and renders the rows.
"""
