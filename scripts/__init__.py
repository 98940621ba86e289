"""Scripts: demo-ledger generator, benchmarks and documentation generators."""
