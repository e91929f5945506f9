package org.g2g.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs one task per thread index and waits for all.
 * Work is always partitioned statically by the caller (part t of T), never stolen, so
 * every output element is computed by the same thread in the same order on every run:
 * results are bit-identical run to run for a given thread count.
 *
 * A training step makes a few dozen calls, many of them short at low density (a sparse layer
 * at 1% is tens of microseconds of work), so the hand-off is a published generation number
 * that idle workers spin on for a while ({@link #SPIN_NANOS}) before they park, rather than an
 * executor's queue and futures, whose wake-up alone costs tens of microseconds per call.
 */
final class WorkPool implements AutoCloseable {
    /** How long an idle worker polls for the next call before parking (a step's calls come back to back). */
    static final long SPIN_NANOS = 200_000;

    final int threads;
    private final Thread[] workers;
    private volatile IntConsumer task;
    private volatile int generation;
    private volatile boolean closed;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

    WorkPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int t = 1; t < this.threads; t++) {
            int part = t;
            Thread w = new Thread(() -> work(part), "g2g-cpu-worker-" + t);
            w.setDaemon(true);
            workers[t - 1] = w;
            w.start();
        }
    }

    private void work(int part) {
        int seen = 0;
        while (true) {
            int g = generation;
            if (g == seen) {
                long start = System.nanoTime();
                while ((g = generation) == seen && !closed && System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                while ((g = generation) == seen && !closed) LockSupport.park(this);
            }
            if (closed) return;
            seen = g;
            try {
                task.accept(part);
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e instanceof RuntimeException re ? re : new IllegalStateException(e));
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    /** Runs task(0 .. threads-1), part 0 on the calling thread, and waits for every part. */
    synchronized void run(IntConsumer task) {
        if (workers.length == 0) {
            task.accept(0);
            return;
        }
        if (closed) throw new IllegalStateException("work pool closed");
        this.task = task;
        pending.set(workers.length);
        generation++; // volatile write after task and pending: a worker that sees it sees both
        for (Thread w : workers) LockSupport.unpark(w);
        RuntimeException first = null;
        try {
            task.accept(0);
        } catch (RuntimeException e) {
            first = e;
        }
        long start = System.nanoTime();
        while (pending.get() > 0) {
            if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
            else LockSupport.parkNanos(20_000);
        }
        this.task = null;
        RuntimeException f = failure.getAndSet(null);
        if (first == null) first = f;
        if (first != null) throw first;
    }

    /** Start of part t when [0, n) is cut into `threads` near-equal ranges aligned to `align`. */
    int split(int n, int t, int align) {
        if (t >= threads) return n;
        long per = ((long) n * t) / threads;
        int s = (int) (per / align * align);
        return Math.min(s, n);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
