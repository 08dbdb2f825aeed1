package ai.polyv.tokenizer.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code polyv tokenize}: text on stdin to ids, {@code --decode} ids to text, {@code --jsonl IN OUT}. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Encode stdin text to token ids (--decode: ids to text; --jsonl IN OUT: batch).")
public final class TokenizeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("tokenize is not implemented yet");
    }
}
