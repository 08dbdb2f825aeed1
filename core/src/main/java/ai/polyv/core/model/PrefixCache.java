package ai.polyv.core.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Finished sessions kept for their KV caches, so that a prompt that starts like an earlier conversation (the
 * next turn of a chat: the same system turn, image and earlier exchanges, then new text) reuses those rows
 * instead of prefilling them again; the images of the earlier turns are not encoded again either.
 *
 * <p>A prompt can reuse the first {@code L} rows of a cached session when its first {@code L} ids equal the
 * session's tokens, every vision run in those rows is the prompt's run at the same row with the same content
 * ({@link VisionInput#sameContent}), and {@code L} does not cut through a vision run. The rest of the prompt, with
 * its own vision runs (an image sent in the new turn), is fed by {@link Session#extend(int[], List)} with the
 * prompt's vision inputs after those the prefix holds. {@code L} is at most the prompt length minus one (the last
 * prompt token is always computed, for its logits). The longest such prefix of at least {@code minPrefix} rows
 * wins. At most {@code capacity} sessions are kept; offering one more closes the least recently offered.
 * Thread-safe.
 */
public final class PrefixCache implements AutoCloseable {

    /** A cached session taken out for reuse: its first {@code rows} rows serve the prompt. */
    public record Hit(Session session, int rows) {}

    private final int capacity;
    private final int minPrefix;
    private final List<Session> sessions = new ArrayList<>();   // oldest first

    public PrefixCache(int capacity, int minPrefix) {
        if (capacity < 1) throw new IllegalArgumentException("prefix cache capacity must be >= 1, got " + capacity);
        if (minPrefix < 1) throw new IllegalArgumentException("minimum reused prefix must be >= 1 token, got " + minPrefix);
        this.capacity = capacity;
        this.minPrefix = minPrefix;
    }

    /** Keeps {@code s} (now owned by the cache); closes the oldest session beyond capacity. */
    public synchronized void offer(Session s) {
        sessions.add(s);
        while (sessions.size() > capacity) sessions.remove(0).close();
    }

    /** Removes and returns the session sharing the longest usable prefix with the prompt, or null when none reaches {@code minPrefix}. */
    public synchronized Hit take(int[] promptIds, List<VisionInput> promptVision, ModelDims dims) {
        int best = -1, bestRows = 0;
        for (int i = 0; i < sessions.size(); i++) {
            int rows = usableRows(sessions.get(i), promptIds, promptVision, dims);
            if (rows >= minPrefix && rows > bestRows) {
                best = i;
                bestRows = rows;
            }
        }
        return best < 0 ? null : new Hit(sessions.remove(best), bestRows);
    }

    public synchronized int size() {
        return sessions.size();
    }

    /** The rows of {@code s} the prompt can reuse (0: none). */
    static int usableRows(Session s, int[] prompt, List<VisionInput> promptVision, ModelDims dims) {
        int[] promptStarts;
        try {
            promptStarts = MropePositions.compute(prompt, promptVision, dims).segments();
        } catch (IllegalArgumentException e) {
            return 0;                                         // placeholders and inputs disagree: the fresh prefill says why
        }
        int[] cached = s.tokens();
        int lcp = 0, max = Math.min(cached.length, prompt.length - 1);
        while (lcp < max && cached[lcp] == prompt[lcp]) lcp++;
        // each of the prompt's vision runs that the prefix enters must be the cached session's run at the same row, with
        // the same picture, and lie wholly inside the prefix; else the prefix ends where that run starts (it is then
        // encoded and fed with the rest of the prompt)
        int merge = dims.vision().mergeSize();
        List<VisionInput> cv = s.visionInputs();
        int[] starts = s.visionStarts();
        int runs = 0;
        for (int v = 0; v < promptStarts.length && promptStarts[v] < lcp; v++) {
            int end = promptStarts[v] + promptVision.get(v).grid().mergedTokens(merge);
            boolean same = v < cv.size() && starts[v] == promptStarts[v] && cv.get(v).sameContent(promptVision.get(v));
            if (!same || end > lcp) {
                lcp = promptStarts[v];
                break;
            }
            runs++;
        }
        // the cached runs inside the prefix are exactly those (a decoded placeholder id is not a run of the prompt's)
        try {
            return s.visionRunsBefore(lcp) == runs ? lcp : 0;
        } catch (IllegalArgumentException cut) {
            return 0;
        }
    }

    @Override
    public synchronized void close() {
        sessions.forEach(Session::close);
        sessions.clear();
    }
}
