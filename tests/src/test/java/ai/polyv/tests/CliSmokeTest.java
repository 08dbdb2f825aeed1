package ai.polyv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.cli.Main;
import org.junit.jupiter.api.Test;

class CliSmokeTest {
    @Test
    void helpListsSubcommandsAndExitsZero() {
        assertEquals(0, Main.run("--help"));
    }

    @Test
    void unknownOptionExitsTwo() {
        assertEquals(2, Main.run("--no-such-option"));
    }
}
