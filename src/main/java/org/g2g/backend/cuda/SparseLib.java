package org.g2g.backend.cuda;

import static jcuda.jcusparse.JCusparse.cusparseCreate;
import static jcuda.jcusparse.JCusparse.cusparseCreateCsr;
import static jcuda.jcusparse.JCusparse.cusparseCreateDnMat;
import static jcuda.jcusparse.JCusparse.cusparseDestroy;
import static jcuda.jcusparse.JCusparse.cusparseDestroyDnMat;
import static jcuda.jcusparse.JCusparse.cusparseDestroySpMat;
import static jcuda.jcusparse.JCusparse.cusparseSetStream;
import static jcuda.jcusparse.JCusparse.cusparseSpMM;
import static jcuda.jcusparse.JCusparse.cusparseSpMM_bufferSize;

import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcusparse.JCusparse;
import jcuda.jcusparse.cusparseDnMatDescr;
import jcuda.jcusparse.cusparseHandle;
import jcuda.jcusparse.cusparseIndexBase;
import jcuda.jcusparse.cusparseIndexType;
import jcuda.jcusparse.cusparseOperation;
import jcuda.jcusparse.cusparseOrder;
import jcuda.jcusparse.cusparseSpMMAlg;
import jcuda.jcusparse.cusparseSpMatDescr;
import jcuda.runtime.cudaStream_t;

/**
 * The cuSPARSE engine for the inter-group edges (`sparse engine cusparse`): SpMM with the edges
 * as a CSR matrix (out x in) over row-major activations, y += W x and dx += W^T dy (W^T as a CSR
 * of its own, see {@link #spmm}). The weight
 * gradient on edges stays with edge_grad (sparse.cu). Descriptors are made per call (cheap host
 * work; the value pointer and batch change between calls).
 */
final class SparseLib implements AutoCloseable {
    private static String availability;

    private final DeviceAllocator memory;
    private final cusparseHandle handle = new cusparseHandle();
    private DeviceMemory workspace;
    private boolean open;

    SparseLib(DeviceAllocator memory, CUstream stream) {
        this.memory = memory;
        cusparseCreate(handle);
        open = true;
        cusparseSetStream(handle, new cudaStream_t(stream));
    }

    /** "loaded" or why not; loads libJCusparse (needs libcusparse.so.12) at most once. Never throws. */
    static synchronized String availability() {
        if (availability == null) {
            try {
                JCusparse.setExceptionsEnabled(true);
                availability = "loaded";
            } catch (LinkageError | RuntimeException e) {
                availability = "not loaded: " + NativeLibs.oneLine(e);
            }
        }
        return availability;
    }

    /**
     * C (rows x batch, row-major, stride ldc) = A B + beta C with A a rows x cols CSR matrix
     * (ptr, idx, vals) and B (cols x batch, row-major). Never transposed: the input gradient
     * passes W^T as its own CSR (the plan's CSC arrays with values permuted into that order),
     * since cuSPARSE does not document opA = transpose as supported on row-major operands.
     */
    void spmm(int rows, int cols, int nnz, CudaIntVector ptr, CudaIntVector idx, CUdeviceptr vals,
              CudaTensor b, int batch, CudaTensor c, float beta) {
        cusparseSpMatDescr a = new cusparseSpMatDescr();
        cusparseDnMatDescr db = new cusparseDnMatDescr(), dc = new cusparseDnMatDescr();
        cusparseCreateCsr(a, rows, cols, nnz, ptr.ptr(), idx.ptr(), vals,
                cusparseIndexType.CUSPARSE_INDEX_32I, cusparseIndexType.CUSPARSE_INDEX_32I,
                cusparseIndexBase.CUSPARSE_INDEX_BASE_ZERO, cudaDataType.CUDA_R_32F);
        try {
            cusparseCreateDnMat(db, cols, batch, b.ld, b.ptr(), cudaDataType.CUDA_R_32F, cusparseOrder.CUSPARSE_ORDER_ROW);
            cusparseCreateDnMat(dc, rows, batch, c.ld, c.ptr(), cudaDataType.CUDA_R_32F, cusparseOrder.CUSPARSE_ORDER_ROW);
            int op = cusparseOperation.CUSPARSE_OPERATION_NON_TRANSPOSE;
            Pointer alpha = Pointer.to(new float[] {1f}), pb = Pointer.to(new float[] {beta});
            long[] size = new long[1];
            cusparseSpMM_bufferSize(handle, op, op, alpha, a.asConst(), db.asConst(), pb, dc, cudaDataType.CUDA_R_32F,
                    cusparseSpMMAlg.CUSPARSE_SPMM_ALG_DEFAULT, size);
            if (workspace == null || workspace.bytes < size[0]) {
                if (workspace != null) workspace.close();
                workspace = memory.alloc(Math.max(size[0], 1L), "cuSPARSE workspace");
            }
            cusparseSpMM(handle, op, op, alpha, a.asConst(), db.asConst(), pb, dc, cudaDataType.CUDA_R_32F,
                    cusparseSpMMAlg.CUSPARSE_SPMM_ALG_DEFAULT, workspace.ptr());
        } finally {
            cusparseDestroySpMat(a.asConst());
            cusparseDestroyDnMat(db.asConst());
            cusparseDestroyDnMat(dc.asConst());
        }
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            if (workspace != null) workspace.close();
            cusparseDestroy(handle);
        }
    }
}
