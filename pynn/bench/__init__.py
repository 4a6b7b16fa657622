"""pynn's benchmarks, shipped with the package so that `pynn bench` runs from a plain install.

- kernels: pynn's gemm and dense kernels against NumPy (the cases benchmarks/gemm.py uses);
- training: one epoch of an MLP against PyTorch and scikit-learn, the small network's step
  cost, inference throughput and peak memory (shared/BENCHMARKS.md "Training");
- threads: pynn at its default thread count against one thread under a spinning neighbour
  and between idle calls (threads_worker runs one measurement);
- command: the `pynn bench` options (add_arguments) and run(args);
- worker: one measurement in a process of its own (processes starts it);
- timing, memory, blas, peers, data, libraries: what they share.
PyTorch and scikit-learn are optional peers: a benchmark skips one that is not installed
and says so.
"""
