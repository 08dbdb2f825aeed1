package ai.polyv.core.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tokens routed to each expert of each MoE layer, counting every top-k assignment (a token counts once
 * per chosen expert), in total and split by the modality of the token (text, image, video).
 */
public final class RoutingStats {

    public enum Modality { TEXT, IMAGE, VIDEO }

    private final int[] layers;
    private final int numExperts;
    private final long[][][] counts; // [layerSlot][modality][expert]

    public RoutingStats(int[] moeLayers, int numExperts) {
        this.layers = moeLayers.clone();
        this.numExperts = numExperts;
        this.counts = new long[layers.length][Modality.values().length][numExperts];
    }

    /** Counts rows {@code [from, from+count)} of a routing; {@code modality} is indexed like the routing's rows. */
    void record(int layer, MoeRouter.Routing r, Modality[] modality, int from, int count) {
        long[][] c = counts[slot(layer)];
        for (int t = from; t < from + count; t++) {
            for (int j = 0; j < r.k(); j++) c[modality[t].ordinal()][r.ids()[t * r.k() + j]]++;
        }
    }

    /** An independent copy of the counts so far. */
    public RoutingStats snapshot() {
        RoutingStats c = new RoutingStats(layers, numExperts);
        for (int l = 0; l < counts.length; l++) for (int m = 0; m < counts[l].length; m++) c.counts[l][m] = counts[l][m].clone();
        return c;
    }

    /** Forgets every count. */
    void clear() {
        for (long[][] l : counts) for (long[] m : l) java.util.Arrays.fill(m, 0);
    }

    private int slot(int layer) {
        for (int i = 0; i < layers.length; i++) if (layers[i] == layer) return i;
        throw new IllegalArgumentException("layer " + layer + " is not an MoE layer " + Arrays.toString(layers));
    }

    public int[] moeLayers() {
        return layers.clone();
    }

    public int numExperts() {
        return numExperts;
    }

    /** {@code [numExperts]} assignments of one modality in one MoE layer. */
    public long[] tokensPerExpert(int layer, Modality modality) {
        return counts[slot(layer)][modality.ordinal()].clone();
    }

    /** {@code [numExperts]} assignments of all modalities in one MoE layer. */
    public long[] tokensPerExpert(int layer) {
        long[] sum = new long[numExperts];
        for (long[] m : counts[slot(layer)]) for (int e = 0; e < numExperts; e++) sum[e] += m[e];
        return sum;
    }

    /** A readable summary: one line per MoE layer and modality with non-zero counts. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int l : layers) {
            sb.append("layer ").append(l).append(": all ").append(Arrays.toString(tokensPerExpert(l)));
            for (Modality m : Modality.values()) {
                long[] c = tokensPerExpert(l, m);
                if (Arrays.stream(c).sum() > 0) sb.append(", ").append(m.name().toLowerCase()).append(' ').append(Arrays.toString(c));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Counts as nested maps (layer -> modality -> per-expert counts), e.g. for JSON output. */
    public Map<Integer, Map<String, long[]>> asMap() {
        Map<Integer, Map<String, long[]>> out = new LinkedHashMap<>();
        for (int l : layers) {
            Map<String, long[]> m = new LinkedHashMap<>();
            m.put("all", tokensPerExpert(l));
            for (Modality mod : Modality.values()) m.put(mod.name().toLowerCase(), tokensPerExpert(l, mod));
            out.put(l, m);
        }
        return out;
    }
}
