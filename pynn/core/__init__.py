"""pynn's core floor: the model (Sequential), its training loop, plans and network, its
layers, losses and optimizers, and the catalogues and checks they share.

Every module here imports only from this floor and the bindings (pynn._kernels) below it;
nothing here imports pynn's other floors (docs/architecture.md). The public names are
exported by pynn and its faces pynn.layers, pynn.optim, pynn.losses and pynn.memory.
"""
