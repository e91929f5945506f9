package org.g2g.backend.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs one task per thread index and waits for all.
 * Work is always partitioned statically by the caller (part t of T), never stolen, so
 * every output element is computed by the same thread in the same order on every run:
 * results are bit-identical run to run for a given thread count.
 */
final class WorkPool implements AutoCloseable {
    final int threads;
    private final ExecutorService workers;

    WorkPool(int threads) {
        this.threads = threads;
        this.workers = threads <= 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "g2g-cpu-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs task(0 .. threads-1), part 0 on the calling thread, and waits for every part. */
    void run(IntConsumer task) {
        if (workers == null) {
            task.accept(0);
            return;
        }
        @SuppressWarnings("unchecked")
        Future<?>[] f = new Future<?>[threads - 1];
        for (int t = 1; t < threads; t++) {
            int part = t;
            f[t - 1] = workers.submit(() -> task.accept(part));
        }
        RuntimeException first = null;
        try {
            task.accept(0);
        } catch (RuntimeException e) {
            first = e;
        }
        for (Future<?> fu : f) {
            try {
                fu.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for workers", e);
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            }
        }
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
        if (workers != null) workers.shutdownNow();
    }
}
