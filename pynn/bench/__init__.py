"""pynn's benchmarks, shipped with the package so that `pynn bench` runs from a plain install.

- kernels: pynn's gemm and dense kernels against NumPy (the cases benchmarks/gemm.py uses);
- training: one epoch of an MLP against PyTorch and scikit-learn, the small network's step
  cost, inference throughput and peak memory (shared/BENCHMARKS.md "Training"); it runs
  the workers, training_config holds its settings, libraries and targets, training_summary
  its medians and ratios, training_report its tables;
- threads: pynn at its default thread count against one thread under a spinning neighbour
  and between idle calls (threads_worker runs one measurement); likewise threads_config,
  threads_summary and threads_report;
- command: the `pynn bench` options (add_arguments) and run(args);
- worker: one measurement in a process of its own (processes starts it);
- timing, memory, blas, peers, data, libraries: what they share.
PyTorch and scikit-learn are optional peers: a benchmark skips one that is not installed
and says so.
"""
