package org.g2g.backend;

/**
 * A device that records the work of a training step once and replays the recording on later
 * steps (CUDA graphs): one launch from the host instead of one per kernel. A recording is made
 * per key (the trainer's: batch size and what the step observes) and is dropped when device
 * memory was allocated or freed since it was made (a DST update re-packs the layers), so the
 * next step of that key records again. The step's changing numbers reach a replay through
 * {@link StepScalars} in device memory, never through the recording.
 */
public interface StepRecorder {
    /**
     * Queues the step {@code work} stands for: replays its recording for {@code key} when there
     * is a valid one; otherwise runs {@code work} (the first step of a key, and the first after
     * memory changed, so buffers it allocates exist before anything is recorded) or records it
     * and replays the recording. {@code work} must only queue device work: host state it changes
     * is not changed when a recording is replayed instead. Nothing here waits for the device.
     */
    void step(Object key, Runnable work);

    /** Recordings made so far (each one a capture and an instantiation). */
    long recordings();

    /** Steps that ran from a recording so far. */
    long replays();
}
