package ai.polyv.core.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector API building blocks shared by the fast kernels: species, loads of each weight format, erf. */
final class VectorOps {
    private VectorOps() {}

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    /** Shorts with the same lane count as {@link #FS} (half its bit size): one BF16/F16 vector load. */
    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Lane rotations by 8, 4, 2, 1 (mod L) for {@link #sumLanes}: constants, so C2 emits one permute each. */
    private static final VectorShuffle<Float> ROT8 = VectorShuffle.fromOp(FS, i -> (i + 8) & (L - 1));
    private static final VectorShuffle<Float> ROT4 = VectorShuffle.fromOp(FS, i -> (i + 4) & (L - 1));
    private static final VectorShuffle<Float> ROT2 = VectorShuffle.fromOp(FS, i -> (i + 2) & (L - 1));
    private static final VectorShuffle<Float> ROT1 = VectorShuffle.fromOp(FS, i -> (i + 1) & (L - 1));

    /**
     * The sum of a vector's lanes in a fixed order: a butterfly of lanewise adds over lane rotations,
     * each of which is exact IEEE arithmetic per lane. {@code reduceLanes(ADD)} leaves the order
     * unspecified and it differs between interpreted and compiled code, so the same input could give
     * results one ulp apart within one JVM; a fixed order makes every kernel bitwise reproducible, which
     * training resume (same losses bit for bit) relies on.
     */
    static float sumLanes(FloatVector v) {
        if (L >= 16) v = v.add(v.rearrange(ROT8));
        if (L >= 8) v = v.add(v.rearrange(ROT4));
        if (L >= 4) v = v.add(v.rearrange(ROT2));
        if (L >= 2) v = v.add(v.rearrange(ROT1));
        return v.lane(0);
    }

    private static final float EXP_HI = 88f, EXP_LO = -87.33654f;   // clamp: 2^n stays a normal float
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f; // Cody-Waite split of ln 2
    private static final float ROUND = 12582912f;                            // 1.5 * 2^23: adding it rounds to an integer

    /**
     * {@code exp(x)} per lane from IEEE add/mul/fma and exponent bits only, so it gives the same bits
     * interpreted and compiled ({@code lanewise(EXP)} uses a different implementation in each, up to an
     * ulp apart). x = n ln2 + r with |r| <= ln2/2 (Cody-Waite), exp(r) by its degree-7 Taylor polynomial
     * (truncation < 1e-8 relative), times 2^n; inputs are clamped to the float range (about 1-2 ulp).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = xc.mul(1.44269504f).add(ROUND).sub(ROUND);      // round(x / ln 2)
        FloatVector r = n.fma(FloatVector.broadcast(FS, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(FS, -LN2_LO), r);
        FloatVector p = r.fma(1f / 5040, 1f / 720).fma(r, FloatVector.broadcast(FS, 1f / 120)).fma(r, FloatVector.broadcast(FS, 1f / 24))
                .fma(r, FloatVector.broadcast(FS, 1f / 6)).fma(r, FloatVector.broadcast(FS, 0.5f)).fma(r, FloatVector.broadcast(FS, 1f))
                .fma(r, FloatVector.broadcast(FS, 1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    static FloatVector f32(MemorySegment s, long byteOff) {
        return FloatVector.fromMemorySegment(FS, s, byteOff, LE);
    }

    static FloatVector f32(MemorySegment s, long byteOff, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(FS, s, byteOff, LE, m);
    }

    /** L bf16 values at {@code byteOff}: widen to int, shift left 16, reinterpret as float (exact). */
    static FloatVector bf16(MemorySegment s, long byteOff) {
        ShortVector h = ShortVector.fromMemorySegment(SS, s, byteOff, LE);
        return ((IntVector) h.convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    static FloatVector bf16(MemorySegment s, long byteOff, VectorMask<Float> m) {
        ShortVector h = ShortVector.fromMemorySegment(SS, s, byteOff, LE, m.cast(SS));
        return ((IntVector) h.convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    /**
     * L f16 values at {@code byteOff}, exact: the exponent/mantissa bits shifted into float position are
     * a float 2^-112 times the value (normals and subnormals alike), so multiply by 2^112; inf/NaN get
     * the float all-ones exponent; the sign is or-ed back.
     */
    static FloatVector f16(MemorySegment s, long byteOff) {
        return f16bits(ShortVector.fromMemorySegment(SS, s, byteOff, LE));
    }

    static FloatVector f16(MemorySegment s, long byteOff, VectorMask<Float> m) {
        return f16bits(ShortVector.fromMemorySegment(SS, s, byteOff, LE, m.cast(SS)));
    }

    private static FloatVector f16bits(ShortVector h16) {
        IntVector h = (IntVector) h16.convertShape(VectorOperators.S2I, IS, 0);
        IntVector mag = h.and(0x7FFF);
        IntVector em = mag.lanewise(VectorOperators.LSHL, 13);
        FloatVector f = em.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Float> infNan = mag.compare(VectorOperators.GE, 0x7C00).cast(FS);
        f = f.blend(em.or(0x7F800000).reinterpretAsFloats(), infNan);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return f.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    // ---- erf / erfc, float32 (coefficients fitted for this project; see Erf) ----

    // erf(x) = x * P(x^2) for |x| < 1
    static final float P0 = 1.1283791665100509f, P1 = -3.7612628843324991e-01f, P2 = 1.1283612428243392e-01f,
            P3 = -2.6854808537144455e-02f, P4 = 5.1900535776631014e-03f, P5 = -8.0243541269823724e-04f,
            P6 = 7.8982102009272350e-05f;
    // erfc(z) = exp(-z^2) * t * Q(t), t = 1/z, for z >= 1
    static final float Q0 = 5.6421647120280483e-01f, Q1 = -9.3367150870071020e-04f, Q2 = -2.6854217500151467e-01f,
            Q3 = -1.0801001082905712e-01f, Q4 = 9.4150756505715971e-01f, Q5 = -1.5122294313385416e+00f,
            Q6 = 1.3300105242841613e+00f, Q7 = -6.9418708028627785e-01f, Q8 = 1.9971671265890678e-01f,
            Q9 = -2.3965295771708351e-02f;

    /** erfc(a) for a >= 0 (NaN in, NaN out). */
    static FloatVector erfcNonNeg(FloatVector a0) {
        // clamp: erfc(20) underflows to 0 in float anyway, and inf would make the residual NaN (NaN stays NaN)
        FloatVector a = a0.min(20f);
        // small branch: 1 - a P(a^2)
        FloatVector a2 = a.mul(a);
        FloatVector p = a2.fma(P6, P5).fma(a2, FloatVector.broadcast(FS, P4)).fma(a2, FloatVector.broadcast(FS, P3)).fma(a2, FloatVector.broadcast(FS, P2))
                .fma(a2, FloatVector.broadcast(FS, P1)).fma(a2, FloatVector.broadcast(FS, P0));
        FloatVector small = a.mul(p).neg().add(1f);
        // large branch: exp(-a^2) (1 - lo) t Q(t), lo = fma(a, a, -a2) the rounding residual of a^2
        FloatVector t = FloatVector.broadcast(FS, 1f).div(a);
        FloatVector q = t.fma(Q9, Q8).fma(t, FloatVector.broadcast(FS, Q7)).fma(t, FloatVector.broadcast(FS, Q6)).fma(t, FloatVector.broadcast(FS, Q5))
                .fma(t, FloatVector.broadcast(FS, Q4)).fma(t, FloatVector.broadcast(FS, Q3)).fma(t, FloatVector.broadcast(FS, Q2)).fma(t, FloatVector.broadcast(FS, Q1))
                .fma(t, FloatVector.broadcast(FS, Q0));
        FloatVector lo = a.fma(a, a2.neg());
        FloatVector e = exp(a2.neg());
        FloatVector large = e.mul(lo.neg().add(1f)).mul(t.mul(q));
        return small.blend(large, a.compare(VectorOperators.GE, 1f));
    }

    /** Scalar twin of {@link #erfcNonNeg} (same formula, for loop tails and tests). */
    static float erfcNonNeg(float a) {
        if (a < 1f) {
            float a2 = a * a;
            float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(a2, P6, P5), a2, P4), a2, P3), a2, P2),
                    a2, P1), a2, P0);
            return 1f - a * p;
        }
        a = Math.min(a, 20f);
        float a2 = a * a;
        float t = 1f / a;
        float q = Q9;
        q = Math.fma(q, t, Q8); q = Math.fma(q, t, Q7); q = Math.fma(q, t, Q6); q = Math.fma(q, t, Q5);
        q = Math.fma(q, t, Q4); q = Math.fma(q, t, Q3); q = Math.fma(q, t, Q2); q = Math.fma(q, t, Q1);
        q = Math.fma(q, t, Q0);
        float lo = Math.fma(a, a, -a2);
        return (float) Math.exp(-a2) * (1f - lo) * (t * q);
    }

    /** erf(x), float32 accuracy (max abs error about 1.5e-7). */
    static float erf(float x) {
        float e = 1f - erfcNonNeg(Math.abs(x));
        return Math.copySign(e, x);
    }

    static final float INV_SQRT2 = 0.70710678118654752f;

    /** GELU(x) = 0.5 x (1 + erf(x / sqrt 2)); for x < 0 uses erfc(|z|) directly (keeps relative accuracy). */
    static FloatVector gelu(FloatVector x) {
        FloatVector z = x.mul(INV_SQRT2);
        FloatVector c = erfcNonNeg(z.abs());                       // erfc(|z|)
        VectorMask<Float> neg = x.compare(VectorOperators.LT, 0f);
        FloatVector onePlusErf = c.neg().add(2f).blend(c, neg);    // 1 + erf(z)
        return x.mul(0.5f).mul(onePlusErf);
    }

    static float gelu(float x) {
        float c = erfcNonNeg(Math.abs(x * INV_SQRT2));
        return 0.5f * x * (x < 0 ? c : 2f - c);
    }
}
