package ai.polyv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line as a user first meets it: the top-level help lists every subcommand, each has its own help. */
class CliSmokeTest {

    static final List<String> COMMANDS = List.of("demo", "generate", "serve", "verify", "inspect", "tokenize", "train", "dataset", "upcycle",
            "bench");

    private static String run(int expectedStatus, String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(p);
            assertEquals(expectedStatus, Main.run(args), String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpListsEverySubcommandAndEachHasItsOwnHelp() {
        String help = run(0, "--help");
        for (String c : COMMANDS) {
            assertTrue(help.lines().anyMatch(l -> l.strip().startsWith(c + " ") || l.strip().equals(c)), c + " listed in:\n" + help);
            String sub = run(0, c, "--help");
            assertTrue(sub.startsWith("Usage: polyv " + c), c + " --help:\n" + sub);
        }
    }

    @Test
    void unknownOptionExitsTwo() {
        assertEquals(2, Main.run("--no-such-option"));
    }
}
