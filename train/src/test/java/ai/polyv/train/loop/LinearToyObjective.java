package ai.polyv.train.loop;

import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.StepLosses;
import ai.polyv.train.TrainExample;
import ai.polyv.train.TrainingObjective;
import java.nio.file.Path;
import java.util.List;

/**
 * A toy objective on two real tensors of a checkpoint (values loaded from it), for testing the
 * pipeline without the model's autograd: a linear regression of the router {@code W [R, H]} on features
 * {@code x [H]} of the example's ids and first vision row ({@code ce = mean_r (W_r . x - y_r)^2},
 * {@code y_r = 0.1 (r+1) (L mod 7)}), and a regression of the head bias {@code b [D]} on the first
 * teacher row ({@code mse_t = mean_d (b_d - t_d)^2}). Optionally fails on a given call (a crash).
 */
final class LinearToyObjective implements TrainingObjective {
    static final String ROUTER = "model.layers.0.mlp.gate.weight";
    static final String BIAS = "synergy_heads.temporal.fc2.bias";

    private final List<Param> params;
    private final int failAtCall;
    int calls;

    LinearToyObjective(Path model, int failAtCall) {
        try (Checkpoint ck = Checkpoint.open(model)) {
            this.params = List.of(Param.zeroGrad(ROUTER, ck.tensor(ROUTER).shape(), ck.tensor(ROUTER).toFloatArray()),
                    Param.zeroGrad(BIAS, ck.tensor(BIAS).shape(), ck.tensor(BIAS).toFloatArray()));
        }
        this.failAtCall = failAtCall;
    }

    @Override
    public List<Param> params() {
        return params;
    }

    @Override
    public StepLosses forwardBackward(TrainExample ex) {
        if (++calls == failAtCall) throw new IllegalStateException("injected crash at call " + calls);
        Param w = params.get(0), b = params.get(1);
        int rows = (int) w.shape()[0], h = (int) w.shape()[1];
        long idSum = 0;
        for (int id : ex.inputIds()) idSum += id;
        float[] x = new float[h];
        for (int k = 0; k < h; k++) {
            x[k] = (float) Math.cos(0.01 * (k + 1) * (idSum % 101));
            if (!ex.vision().isEmpty()) x[k] += 0.01f * ex.vision().getFirst().pixelValues()[k];
        }
        double ce = 0;
        for (int r = 0; r < rows; r++) {
            float pred = 0;
            for (int k = 0; k < h; k++) pred += w.value()[r * h + k] * x[k];
            float err = pred - 0.1f * (r + 1) * (ex.inputIds().length % 7);
            ce += (double) err * err / rows;
            float g = 2f * err / rows;
            for (int k = 0; k < h; k++) w.grad()[r * h + k] += g * x[k];
        }
        double mse = 0;
        if (ex.teacherTemporal() != null) {
            int d = b.numel();
            for (int i = 0; i < d; i++) {
                float err = b.value()[i] - ex.teacherTemporal()[i];
                mse += (double) err * err / d;
                b.grad()[i] += 2f * err / d;
            }
        }
        int tokens = 0;
        for (int j = 1; j < ex.labels().length; j++) if (ex.labels()[j] != TrainExample.IGNORE_INDEX) tokens++;
        return new StepLosses(ce, mse, 0, 0, ce + mse, tokens);
    }
}
