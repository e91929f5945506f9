package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import org.g2g.backend.StepRecorder;

/**
 * CUDA graphs of training steps: per key, the step's work captured from the stream once
 * (thread-local capture mode, as K runs may share the process: a synchronising call of this thread inside the step fails the capture instead of
 * passing unnoticed), instantiated, and launched with cuGraphLaunch on later steps. A graph
 * bakes in device addresses, so it is valid only while the allocator's generation (bumped by
 * every allocation and free) is the one it was captured at; a stale one is destroyed and the key
 * runs once uncaptured (where scratch buffers and the optimizer table are allocated) before it
 * is captured again.
 */
final class StepGraphs implements StepRecorder, AutoCloseable {
    private final CudaContext ctx;
    private final Map<Object, Graph> graphs = new HashMap<>();
    private final Set<Object> warm = new HashSet<>();
    private long warmGeneration = -1;
    private long recordings, replays;

    private record Graph(CUgraphExec exec, long generation) {}

    StepGraphs(CudaContext ctx) { this.ctx = ctx; }

    @Override
    public void step(Object key, Runnable work) {
        ctx.open();
        if (ctx.timing()) { // per-launch events cannot go into a graph: time the kernels uncaptured
            work.run();
            return;
        }
        long gen = ctx.memory.generation();
        Graph g = graphs.get(key);
        if (g != null && g.generation() == gen) {
            ctx.launchGraph(() -> cuGraphLaunch(g.exec(), ctx.stream));
            replays++;
            return;
        }
        if (g != null) {
            graphs.remove(key);
            cuGraphExecDestroy(g.exec());
        }
        if (warmGeneration != gen) {
            warm.clear();
            warmGeneration = gen;
        }
        if (!warm.contains(key)) {
            work.run();
            warmGeneration = ctx.memory.generation();
            if (warmGeneration != gen) warm.clear();
            warm.add(key);
            return;
        }
        CUgraphExec exec = capture(work);
        graphs.put(key, new Graph(exec, gen));
        recordings++;
        ctx.launchGraph(() -> cuGraphLaunch(exec, ctx.stream));
        replays++;
    }

    private CUgraphExec capture(Runnable work) {
        CUgraph graph = new CUgraph();
        cuStreamBeginCapture(ctx.stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        ctx.capturing(true);
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            ctx.capturing(false);
            try {
                cuStreamEndCapture(ctx.stream, graph);
                cuGraphDestroy(graph);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        ctx.capturing(false);
        long gen = ctx.memory.generation();
        cuStreamEndCapture(ctx.stream, graph);
        try {
            if (gen != warmGeneration) {
                throw new IllegalStateException("a training step allocated or freed device memory while it was being captured");
            }
            CUgraphExec exec = new CUgraphExec();
            cuGraphInstantiate(exec, graph, 0L);
            return exec;
        } finally {
            cuGraphDestroy(graph);
        }
    }

    @Override public long recordings() { return recordings; }

    @Override public long replays() { return replays; }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Graph g : graphs.values()) {
            try {
                cuGraphExecDestroy(g.exec());
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        graphs.clear();
        warm.clear();
        if (first != null) throw first;
    }
}
