package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.layout.WeightLayout;

/**
 * Qwen2.5-VL vision tower: patch embed (a matmul over 1176-wide rows), window permutation, blocks with
 * 2-D RoPE and window / full-frame attention, merger, un-permutation, optional 3D PE add.
 */
final class VisionEncoder {
    private final ModelDims.Vision vc;
    private final WeightLayout.Vision<Tensor, Tensor> w;
    private final Backend be;

    VisionEncoder(ModelDims.Vision vc, WeightLayout.Vision<Tensor, Tensor> w, Backend be) {
        this.vc = vc;
        this.w = w;
        this.be = be;
    }

    /** Merged tokens of an input after the merger. */
    int mergedTokens(VisionInput in) {
        return in.grid().mergedTokens(vc.mergeSize());
    }

    /** Encodes one input into {@code out [mergedTokens, outHidden]} (a tensor of {@code ws}). */
    void encode(VisionInput in, Workspace ws, Tensor out, ForwardTrace trace) {
        VisionInput.GridThw g = in.grid();
        int n = g.patches(), width = vc.patchRowWidth(), hidden = vc.hidden(), merge = vc.mergeSize(), unit = merge * merge;
        if ((long) n * width != in.pixelValues().length) {
            throw new IllegalArgumentException("pixel_values has " + in.pixelValues().length + " values, expected "
                    + n + " patches x " + width + " for grid " + g);
        }
        WindowIndex win = WindowIndex.compute(g.t(), g.h(), g.w(), merge, vc.windowUnits());
        int merged = win.order().length;
        if (out.rows() != merged || out.cols() != vc.outHidden()) {
            throw new IllegalArgumentException("vision output must be [" + merged + ", " + vc.outHidden() + "], got " + out);
        }
        Tensor pix = ws.f32(in.pixelValues(), n, width);
        Tensor patches = ws.f32(n, hidden);
        be.matmul(pix, w.patchEmbed(), null, patches);                     // [n, hidden], patchify order
        if (trace != null) trace.floats("vision.patch_embed", be.download(patches), n, hidden);
        Tensor x = ws.f32(n, hidden);
        be.gatherRows(patches, win.patchPerm(), x);                        // [n, hidden], window order

        // 2-D rope tables in window order
        int hd = vc.headDim();
        int[] rows = new int[n], cols = new int[n];
        int lw = g.w() / merge, perFrame = g.h() * g.w();
        for (int i = 0; i < n; i++) {
            int p = win.patchPerm()[i] % perFrame, u = p / unit, j = p % unit;
            rows[i] = (u / lw) * merge + j / merge;
            cols[i] = (u % lw) * merge + j % merge;
        }
        float[] cos = new float[n * hd], sin = new float[n * hd];
        RopeTables.vision(rows, cols, hd, cos, sin);
        Tensor cosT = ws.f32(cos, n, hd), sinT = ws.f32(sin, n, hd);

        Tensor h = ws.f32(n, hidden), qkv = ws.f32(n, 3L * hidden), attn = ws.f32(n, hidden), tmp = ws.f32(n, hidden);
        Tensor q = ws.f32(n, hidden), k = ws.f32(n, hidden), v = ws.f32(n, hidden);
        for (int b = 0; b < w.blocks().size(); b++) {
            WeightLayout.VisionBlock<Tensor, Tensor> blk = w.blocks().get(b);
            be.rmsNorm(x, blk.norm1(), 1e-6f, h);
            be.matmul(h, blk.qkv().weight(), blk.qkv().bias(), qkv);                 // [n, 3*hidden] = q | k | v
            splitColumns(qkv, q, k, v);
            be.rope(q, vc.heads(), cosT, sinT);
            be.rope(k, vc.heads(), cosT, sinT);
            be.attentionSegments(q, k, v, attn, vc.heads(), vc.isFullAttention(b) ? win.cuFrames() : win.cuWindows());
            be.matmul(attn, blk.proj().weight(), blk.proj().bias(), tmp);
            be.add(x, tmp, x);
            be.rmsNorm(x, blk.norm2(), 1e-6f, h);
            Mlp.swiglu(be, blk.mlp(), h, tmp);
            be.add(x, tmp, x);
            if (trace != null) trace.floats("vision.block." + b, be.download(x), n, hidden);
        }
        be.rmsNorm(x, w.mergerNorm(), 1e-6f, h);
        Tensor grouped = h.reshape(merged, (long) unit * hidden);          // 4 consecutive patches = one row
        Tensor m1 = ws.f32(merged, (long) unit * hidden);
        be.matmul(grouped, w.merger0().weight(), w.merger0().bias(), m1);
        be.gelu(m1, m1);
        Tensor m2 = ws.f32(merged, vc.outHidden());
        be.matmul(m1, w.merger2().weight(), w.merger2().bias(), m2);               // [merged, out], window order
        be.scatterRows(m2, win.order(), out);                              // un-permute
        if (in.pe3d() != null) {
            if (in.pe3d().length != (long) merged * vc.outHidden()) {
                throw new IllegalArgumentException("pe3d has " + in.pe3d().length + " values, expected " + merged + " x " + vc.outHidden());
            }
            be.add(out, ws.f32(in.pe3d(), merged, vc.outHidden()), out);
        }
    }

    /** Splits {@code qkv [n, 3d]} column blocks into {@code q, k, v [n, d]}. */
    private void splitColumns(Tensor qkv, Tensor q, Tensor k, Tensor v) {
        int n = qkv.rows(), d = q.cols();
        int[] idx = new int[n];
        Tensor asRows = qkv.reshape(3L * n, d);                             // row 3i+j = part j of token i
        for (int j = 0; j < 3; j++) {
            for (int i = 0; i < n; i++) idx[i] = 3 * i + j;
            be.gatherRows(asRows, idx, j == 0 ? q : j == 1 ? k : v);
        }
    }
}
