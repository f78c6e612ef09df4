"""Side-by-side timing: the candidates of one case take turns, round by round.

The machine is shared and its speed drifts (up to 1.9× over minutes), so timing
fastconv for a minute and then the reference for a minute would compare two different
machines. Interleaving puts every candidate through the same drift; medians drop the
rounds a neighbour disturbed.
"""
import statistics
import time


def interleaved_times(candidates, rounds, budget):
    """Wall times in seconds of each zero-argument callable in `candidates` (label -> fn).

    One untimed warm-up call each (first-touch page faults, thread-pool start-up), then
    `rounds` rounds in which every candidate is called once; the starting candidate
    rotates so none always runs right after the same neighbour. A candidate whose timed
    calls have used up `budget` seconds sits out the remaining rounds (it keeps at least
    one timed call): the NumPy reference of the large shapes takes seconds per call.
    Returns label -> list of times.
    """
    labels = list(candidates)
    for label in labels:
        candidates[label]()
    times = {label: [] for label in labels}
    for r in range(rounds):
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:
            if times[label] and sum(times[label]) >= budget:
                continue
            start = time.perf_counter()
            candidates[label]()
            times[label].append(time.perf_counter() - start)
    return times


def median_ms(seconds):
    return 1e3 * statistics.median(seconds)
