"""Scripts that measure the pipeline: soak (crashes, restarts, chaos), benchmarks."""
