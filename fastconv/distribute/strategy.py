"""MPIStrategy: synchronous data-parallel training over MPI collectives.

Horovod's design in tf.distribute's shape. Every rank holds the whole model and draws
the same data order (the shuffling generator is broadcast from rank 0 with the
weights and the optimizer state); each takes a contiguous share of every global batch;
after the backward pass the gradients, each scaled by the rank's sample count, are
summed by one MPI Allreduce over a single fused buffer (the count rides in its last
element), then divided by the global count: the weighted mean, i.e. the gradient one
process computes on the whole batch, up to float rounding. Loss and metric sums are
reduced the same way. Only the chief (rank 0) prints and writes files.
"""
import contextlib
import copy
import sys

import numpy as np

from fastconv.distribute import context, faults, threads
from fastconv.distribute._mpi import import_mpi

__all__ = ["MPIStrategy"]


class MPIStrategy:
    """Data-parallel training on every process of an MPI job (one replica per process).

    Create it once, first thing in the script; build and compile the model inside
    `with strategy.scope():`. Then fit/evaluate/predict split their data over the ranks.
    `batch_size` stays the global batch. Run with `mpiexec -n P python script.py`; as a
    plain `python script.py` it is one replica and trains as without a strategy.

    Creating it also: sets each rank's OpenMP threads to its share of the machine's
    cores (unless OMP_NUM_THREADS or set_num_threads chose), and makes an exception
    that escapes on any rank end the whole job (MPI_Abort) with a message naming it.
    """

    def __init__(self, communicator=None):
        MPI = import_mpi()
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if communicator is None else communicator
        self.local_replicas = threads.share_cores_among_local_ranks(self.comm, MPI)
        if self.num_replicas_in_sync > 1:
            faults.abort_job_on_uncaught_exception(self.comm)
        self._buffer = None

    # -- who am I ------------------------------------------------------------------
    @property
    def num_replicas_in_sync(self):
        """The number of processes training together (tf.distribute's name)."""
        return self.comm.Get_size()

    @property
    def rank(self):
        return self.comm.Get_rank()

    @property
    def is_chief(self):
        """True on rank 0: the one that prints and writes files."""
        return self.rank == 0

    def scope(self):
        """Models created or compiled inside this block train with this strategy."""
        return context.strategy_scope(self)

    def barrier(self):
        self.comm.Barrier()

    @contextlib.contextmanager
    def chief_first(self):
        """Run the block on rank 0, then on the other ranks: a download into a cache the
        ranks share is made once and read by the others. If it raises on rank 0, the
        job ends (the others would wait for it forever)."""
        if self.is_chief:
            try:
                yield
            except Exception as exc:
                self.abort(f"{type(exc).__name__}: {exc}")
            self.barrier()
        else:
            self.barrier()
            yield

    def abort(self, message):
        """Print message (naming this rank) and end every process of the job, status 1."""
        print(f"{message} (rank {self.rank} of {self.num_replicas_in_sync}; ending the job)",
              file=sys.stderr, flush=True)
        self.comm.Abort(faults.ABORT_STATUS)

    def __repr__(self):
        return (f"MPIStrategy(rank={self.rank}, num_replicas_in_sync="
                f"{self.num_replicas_in_sync})")

    # -- data ----------------------------------------------------------------------
    def local_part(self, arrays):
        """This rank's contiguous share of each array (None stays None): rank r of P gets
        the r-th of P near-equal parts, so the parts in rank order are the whole."""
        return [None if a is None else np.array_split(a, self.num_replicas_in_sync)[self.rank]
                for a in arrays]

    def check_global_batch(self, batch_size, samples):
        """ValueError unless every rank gets at least one sample of the first batch."""
        p = self.num_replicas_in_sync
        if min(batch_size, samples) < p:
            raise ValueError(f"batch_size={batch_size} with {samples} samples is smaller than "
                             f"the {p} replicas: batch_size is the global batch, split over "
                             f"the replicas; use at least {p}")

    def gather(self, arrays):
        """Each rank's arrays (one list per rank, any may be None) concatenated in rank
        order, on every rank."""
        parts = self.comm.allgather(arrays)
        present = [p for p in parts if p is not None]
        return [np.concatenate(column) for column in zip(*present)]

    # -- the model's state ---------------------------------------------------------
    def broadcast_model(self, model):
        """Rank 0's weights, optimizer state, shuffling generator and epoch count on
        every rank (once per fit: then the ranks stay in step by construction)."""
        if self.num_replicas_in_sync == 1:
            return
        optimizer = model.optimizer
        state = None
        if self.is_chief:
            state = (model.get_weights(), optimizer.slots is not None, optimizer.get_state(),
                     model.shuffle_rng.bit_generator.state, model.epoch)
        weights, built, (iterations, slots), rng_state, epoch = self.comm.bcast(state, root=0)
        if not self.is_chief:
            model.set_weights(weights)
            if built:
                optimizer.set_state(iterations, slots, model.trainable_params())
            else:
                optimizer.slots, optimizer.iterations = None, iterations
            model.shuffle_rng.bit_generator.state = rng_state
            model.epoch = epoch

    def synchronize_weights(self, model):
        """At an epoch's end: the non-trainable weights (BatchNormalization's moving
        statistics, computed from each rank's batches) averaged over ranks, then every
        weight set to rank 0's, so that every rank holds and saves the same model."""
        if self.num_replicas_in_sync == 1:
            return
        trainable = {id(p) for p in model.trainable_params()}
        for w in model.weights:
            if id(w) not in trainable and np.issubdtype(w.dtype, np.floating):
                self.comm.Allreduce(self._MPI.IN_PLACE, w, op=self._MPI.SUM)
                w /= w.dtype.type(self.num_replicas_in_sync)
        values = self.comm.bcast(model.get_weights() if self.is_chief else None, root=0)
        if not self.is_chief:
            model.set_weights(values)

    # -- one step ------------------------------------------------------------------
    def _fused_buffer(self, grads):
        size = sum(g.size for g in grads) + 1  # + the sample count
        dtype = np.result_type(*grads)
        if self._buffer is None or self._buffer.size != size or self._buffer.dtype != dtype:
            self._buffer = np.empty(size, dtype=dtype)
        return self._buffer

    def average_gradients(self, pairs, local_count):
        """Replace each gradient (the mean over this rank's `local_count` samples; 0: this
        rank had no sample in the batch) by the mean over the global batch."""
        if self.num_replicas_in_sync == 1:
            return
        grads = [g for g, _ in pairs]
        buffer = self._fused_buffer(grads)
        offset = 0
        for g in grads:
            part = buffer[offset:offset + g.size]
            if local_count:
                np.multiply(g.ravel(), local_count, out=part, casting="unsafe")
            else:
                part.fill(0)
            offset += g.size
        buffer[-1] = local_count
        self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM)
        buffer[:-1] /= buffer[-1]
        offset = 0
        for g in grads:
            g[...] = buffer[offset:offset + g.size].reshape(g.shape)
            offset += g.size

    def gradient_bytes_per_step(self, model):
        """The bytes of the fused buffer each rank contributes to one allreduce."""
        grads = [p for p in model.trainable_params()]
        return (sum(g.size for g in grads) + 1) * np.result_type(*grads).itemsize

    # -- logs ----------------------------------------------------------------------
    def reduce_results(self, means):
        """means.results() over every rank's samples (the sums and counts behind the
        loss and each metric added up over ranks), the same on every rank."""
        if self.num_replicas_in_sync == 1:
            return means.results()
        metrics = [m for per_output in means.metrics for m in per_output]
        names = [_state_names(m) for m in metrics]
        state = [means.loss_sum, means.count] + list(means.output_sums)
        for m, keys in zip(metrics, names):
            state += [getattr(m, k) for k in keys]
        total = np.asarray(state, dtype=np.float64)
        self.comm.Allreduce(self._MPI.IN_PLACE, total, op=self._MPI.SUM)
        reduced = copy.copy(means)
        reduced.loss_sum, reduced.count = float(total[0]), float(total[1])
        n_outputs = len(means.output_sums)
        reduced.output_sums = [float(v) for v in total[2:2 + n_outputs]]
        at = 2 + n_outputs
        reduced_metrics = {}
        for m, keys in zip(metrics, names):
            copied = copy.copy(m)
            for k in keys:
                setattr(copied, k, float(total[at]))
                at += 1
            reduced_metrics[id(m)] = copied
        reduced.metrics = [[reduced_metrics[id(m)] for m in per_output]
                           for per_output in means.metrics]
        return reduced.results()


def _state_names(metric):
    """The attributes holding a metric's state, all sums over samples (so that the sum
    over ranks is the state over all samples). A metric class may name them in
    `state_names`; Keras's mean metrics keep `total` and `count`."""
    names = getattr(metric, "state_names", ("total", "count"))
    missing = [k for k in names if not hasattr(metric, k)]
    if missing:
        raise TypeError(f"metric {metric.name!r} ({type(metric).__name__}) cannot be reduced "
                        f"over replicas: give its class a `state_names` tuple naming the "
                        f"attributes that hold its sums")
    return names
