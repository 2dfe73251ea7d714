"""newsflow benchmarks: a synthetic page corpus with ground truth, and the runs that use it."""
