"""Sequential's batch buffers: the plans (pynn.core.plans) a model keeps and reuses.

A TrainingPlan per batch size (the MAX_PLANS last used are kept) and an InferencePlan per
mode ("predict", "eval") sized from a memory budget, each keyed by the thread count and
SIMD path its kernel workspace is sized for. pynn.core.model's Sequential inherits these
methods from PlansMixin.
"""

from __future__ import annotations

from collections import OrderedDict
from types import ModuleType
from typing import Any

from pynn.core.plans import EVAL_BATCH, InferencePlan, TrainingPlan, block_rows, check_memory

MAX_PLANS = 6  # training plans kept (batch sizes); a model keeps one InferencePlan per mode


class PlansMixin:
    """The plan cache of pynn.core.model.Sequential: `_plan(n)` for training steps of n rows and
    `_inference_plan` for forward passes, made once and reused."""

    backend: str
    _kernels: ModuleType
    _plans: OrderedDict[tuple[Any, ...], Any]

    def _plan_key(self, *key):
        if self.backend == "c":  # a workspace is sized for a thread count and a SIMD path
            return key + (self._kernels.get_num_threads(), self._kernels.get_simd_path())
        return key

    def _plan(self, n):
        """The TrainingPlan of batch size n (the MAX_PLANS last used are kept)."""
        key = self._plan_key("train", n)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = TrainingPlan(self, n)
            training = [k for k in self._plans if k[0] == "train"]
            for old in training[: max(0, len(training) - MAX_PLANS)]:
                del self._plans[old]
        else:
            self._plans.move_to_end(key)
        return plan

    def _inference_plan(self, n_rows, mode, memory=None):
        """(plan, rows per pass) for forward passes over n_rows rows in `mode` ("predict" or
        "eval") within `memory` bytes of buffers (pynn.core.plans.block_rows). The plan is
        reused while it holds enough rows, whatever budget it was made for."""
        memory = check_memory(memory)
        key = self._plan_key(mode)
        plan = self._plans.get(key)
        if plan is not None and plan.nbytes <= memory and plan.capacity >= min(n_rows, EVAL_BATCH):
            return plan, min(n_rows, plan.capacity)
        rows = block_rows(self, n_rows, mode, memory)
        if plan is None or plan.capacity < rows:
            plan = self._plans[key] = InferencePlan(self, rows, mode)
        return plan, rows

    def _forget_plans(self):
        self._plans.clear()
