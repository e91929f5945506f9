package org.g2g.backend.cuda;

import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.model.Mask;

/**
 * One layer's results on the independent ReferenceBackend: forward (with ReLU), backwardInput,
 * weightGrad (dense, unpacked) and the bias gradient. The yardstick of the CUDA layout and kernel tests.
 */
record RefLayer(float[] y, float[] dx, float[] gw, float[] gb) {
    private static final ReferenceBackend REF = new ReferenceBackend();

    static RefLayer of(Mask m, float[] w, float[] bias, float[] x, float[] dy, int batch) {
        LayerPlan p = REF.plan(m);
        Tensor W = REF.vector(m.out * m.in), B = REF.vector(m.out), X = REF.tensor(m.in, batch), Y = REF.tensor(m.out, batch),
                DY = REF.tensor(m.out, batch), DX = REF.tensor(m.in, batch), GW = REF.vector(m.out * m.in), GB = REF.vector(m.out);
        REF.pack(p, w, W);
        REF.write(B, bias);
        REF.write(X, x);
        REF.write(DY, dy);
        REF.forward(p, W, B, X, Y, batch, true);
        REF.backwardInput(p, W, DY, DX, batch);
        REF.weightGrad(p, X, DY, GW, GB, batch);
        return new RefLayer(REF.read(Y), REF.read(DX), REF.unpack(p, GW), REF.read(GB));
    }
}
