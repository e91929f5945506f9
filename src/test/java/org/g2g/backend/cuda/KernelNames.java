package org.g2g.backend.cuda;

import java.util.List;

/** Every extern "C" kernel the Java side launches by name; the fatbin must contain them all. */
final class KernelNames {
    private KernelNames() {}

    static final List<String> ALL = List.of(
            "gemm_nn", "gemm_tn", "gemm_nt",
            "spmm_rows", "edge_grad", "row_sum", "bias_act", "scatter_blocks", "scatter_edges",
            "row_stats",
            "select_init", "select_hist", "select_pick", "select_collect",
            "softmax_xent",
            "relu_backward", "adam", "sgd", "ema", "abs_inplace", "gather_batch");
}
