package ai.polyv.core.model;

import java.util.List;

/**
 * M-RoPE position ids of a prompt (Qwen2.5-VL {@code get_rope_index}). Text tokens (also
 * vision_start/end) get {@code (p, p, p)} counting up; a run of image/video placeholder tokens takes the
 * next {@link VisionInput} in order and gets {@code t = p + t_idx * interval, h = p + row, w = p + col}
 * over the merged grid, where {@code interval = 1} for images and
 * {@code (long)(t_idx * seconds_per_grid * tokens_per_second)} replaces {@code t_idx * interval} for
 * videos; the following text starts at max(position so far) + 1. Decoding continues at
 * {@link #next()}.
 *
 * @param pos       {@code [3][L]} (t, h, w)
 * @param next      the position of the next token: max over all positions + 1
 * @param segments  per vision input, the first token index of its placeholder run
 */
public record MropePositions(long[][] pos, long next, int[] segments) {

    /** HF's rope_delta: {@code next - L}. */
    public long ropeDelta() {
        return next - pos[0].length;
    }

    public static MropePositions compute(int[] ids, List<VisionInput> inputs, ModelDims dims) {
        return compute(ids, inputs, dims, 0);
    }

    /**
     * The positions of {@code ids} fed after rows whose next position is {@code start} (a session extended with
     * more of a prompt): the same as the tail of {@link #compute(int[], List, ModelDims)} over the whole prompt, since
     * there every token's position counts on from the maximum before it + 1; {@code segments} index into {@code ids}.
     */
    public static MropePositions compute(int[] ids, List<VisionInput> inputs, ModelDims dims, long start) {
        if (start < 0) throw new IllegalArgumentException("start position must be >= 0, got " + start);
        int imageId = dims.tokens().imageTokenId(), videoId = dims.tokens().videoTokenId();
        int merge = dims.vision().mergeSize();
        int n = ids.length;
        long[][] pos = new long[3][n];
        int[] segments = new int[inputs.size()];
        long p = start;
        int next = 0;
        for (int i = 0; i < n; ) {
            int id = ids[i];
            if (id != imageId && id != videoId) {
                pos[0][i] = pos[1][i] = pos[2][i] = p++;
                i++;
                continue;
            }
            VisionInput.Kind kind = id == imageId ? VisionInput.Kind.IMAGE : VisionInput.Kind.VIDEO;
            if (next >= inputs.size()) {
                throw new IllegalArgumentException("prompt has more " + kind.name().toLowerCase() + "/vision placeholder segments than the "
                        + inputs.size() + " vision inputs given (extra segment at position " + i + ")");
            }
            VisionInput in = inputs.get(next);
            if (in.kind() != kind) {
                throw new IllegalArgumentException("vision segment " + next + " at position " + i + " uses " + kind.name().toLowerCase()
                        + " placeholders but vision input " + next + " is a " + in.kind().name().toLowerCase());
            }
            VisionInput.GridThw g = in.grid();
            int lh = g.h() / merge, lw = g.w() / merge, count = g.t() * lh * lw;
            int run = 0;
            while (i + run < n && ids[i + run] == id) run++;
            if (run < count || (run > count && next + 1 >= inputs.size())) {
                throw new IllegalArgumentException("vision segment " + next + " at position " + i + " has " + run + " placeholder tokens but its input "
                        + g.t() + "x" + g.h() + "x" + g.w() + " has " + count + " merged tokens");
            }
            segments[next] = i;
            long max = p;
            for (int t = 0; t < g.t(); t++) {
                long tpos = kind == VisionInput.Kind.IMAGE ? t : (long) (t * in.secondsPerGrid() * dims.vision().tokensPerSecond());
                for (int y = 0; y < lh; y++) {
                    for (int x = 0; x < lw; x++) {
                        pos[0][i] = p + tpos;
                        pos[1][i] = p + y;
                        pos[2][i] = p + x;
                        max = Math.max(max, Math.max(pos[0][i], Math.max(pos[1][i], pos[2][i])));
                        i++;
                    }
                }
            }
            p = max + 1;
            next++;
        }
        if (next != inputs.size()) {
            throw new IllegalArgumentException("prompt has " + next + " vision placeholder segments but " + inputs.size() + " vision inputs were given");
        }
        return new MropePositions(pos, p, segments);
    }
}
