"""ruleengine's benchmarks: `python -m benchmarks` (see `__main__` and docs/performance.md).

Modules: `harness` (interleaved CPU-time measurement), `conditions` (single conditions and the
50-rule set, against hand-written Python and the peers in `peers`), `full` (whole rulesets,
growth, batches, start-up), `data` (seeded generators), `acme_hand` and `ruleset50` (the
hand-written baselines).
"""
