package ai.polyv.core.api;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.TokenConsumer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link GenerationService} on tiny-a: concurrent callers get their golden ids, cancellation and failures stay per request. */
class GenerationServiceTest {
    static final Path TINY_A = SharedData.golden("tiny-a");
    private static PolyV polyv;

    @BeforeAll
    static void load() {
        polyv = PolyV.load(TINY_A, new CpuBackend(2));
    }

    @AfterAll
    static void close() {
        polyv.close();
    }

    static GenerationRequest golden(String c) {
        GenerationRequest.Builder b = GenerationRequest.builderOfIds(GoldenCases.ints(GoldenCases.G.i64(c + ".input_ids")))
                .maxNewTokens(GoldenCases.G.i64(c + ".greedy_ids").length).greedy().noDefaultStopTokens();
        GoldenCases.visualsOf(c).forEach(b::visual);
        return b.build();
    }

    @Test
    void concurrentCallersGetTheirGoldenIds() throws Exception {
        try (GenerationService service = new GenerationService(polyv, 3)) {
            List<List<Integer>> streamed = new ArrayList<>();
            for (String c : GoldenCases.CASES) streamed.add(Collections.synchronizedList(new ArrayList<>()));
            List<Thread> callers = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            CompletableFuture<?>[] slots = new CompletableFuture<?>[GoldenCases.CASES.length];
            for (int i = 0; i < GoldenCases.CASES.length; i++) {
                int k = i;
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    slots[k] = service.submit(golden(GoldenCases.CASES[k]), (id, text) -> streamed.get(k).add(id));
                });
                t.start();
                callers.add(t);
            }
            go.countDown();
            for (Thread t : callers) t.join();
            for (int i = 0; i < GoldenCases.CASES.length; i++) {
                String c = GoldenCases.CASES[i];
                GenerationResult r = (GenerationResult) slots[i].get(60, TimeUnit.SECONDS);
                int[] expected = GoldenCases.ints(GoldenCases.G.i64(c + ".greedy_ids"));
                assertArrayEquals(expected, r.ids(), c);
                assertEquals(Arrays.stream(expected).boxed().toList(), streamed.get(i), c + " streamed ids");
            }
            assertEquals(0, service.queued());
            // the counters follow the futures (a completion's callbacks may run just after get() returns)
            GenerationService.Stats st = service.stats();
            for (int i = 0; i < 100 && st.completed() < 5; i++) {
                Thread.sleep(10);
                st = service.stats();
            }
            long tokens = 0;
            for (String c : GoldenCases.CASES) tokens += GoldenCases.G.i64(c + ".greedy_ids").length;
            assertEquals(5, st.submitted());
            assertEquals(5, st.completed());
            assertEquals(0, st.failed() + st.cancelled());
            assertEquals(tokens, st.generatedTokens());
            assertEquals(0, st.active());
            assertTrue(st.decodeSteps() > 0 && st.meanBatch() > 1 && st.meanBatch() <= 3, st.toString());
        }
    }

    @Test
    void cancellationAndFailuresStayWithTheirRequest() throws Exception {
        try (GenerationService service = new GenerationService(polyv, 4)) {
            CountDownLatch firstToken = new CountDownLatch(1);
            GenerationRequest endless = GenerationRequest.builderOfIds(5, 6, 7).maxNewTokens(4000).noDefaultStopTokens().build();
            CompletableFuture<GenerationResult> cancelled = service.submit(endless, (id, text) -> firstToken.countDown());
            CompletableFuture<GenerationResult> throwing = service.submit(endless, (id, text) -> {
                throw new IllegalStateException("consumer gave up");
            });
            CompletableFuture<GenerationResult> tooLong = service.submit(GenerationRequest.builderOfIds(new int[4096]).build(), TokenConsumer.NONE);
            assertTrue(firstToken.await(30, TimeUnit.SECONDS));
            assertTrue(cancelled.cancel(true));
            CompletableFuture<GenerationResult> text = service.submit(golden("text"), TokenConsumer.NONE);
            assertArrayEquals(GoldenCases.ints(GoldenCases.G.i64("text.greedy_ids")), text.get(60, TimeUnit.SECONDS).ids());
            var thrown = assertThrows(CompletionException.class, throwing::join);
            assertEquals("consumer gave up", thrown.getCause().getMessage());
            var tooLongFailure = assertThrows(CompletionException.class, tooLong::join);
            assertTrue(tooLongFailure.getCause().getMessage().contains("prompt too long: 4096 tokens"), tooLongFailure.getCause().getMessage());
            assertThrows(CancellationException.class, cancelled::join);
        }
    }

    @Test
    void theNextTurnOfAConversationReusesItsPrefix() throws Exception {
        GenerationRequest first = golden("image");
        int[] answer = polyv.generate(first).ids();
        int[] prompt = GoldenCases.ints(GoldenCases.G.i64("image.input_ids"));
        int[] second = Arrays.copyOf(prompt, prompt.length + answer.length + 2);
        System.arraycopy(answer, 0, second, prompt.length, answer.length);
        second[second.length - 2] = 31;
        second[second.length - 1] = 32;
        GenerationRequest.Builder b = GenerationRequest.builderOfIds(second).maxNewTokens(4).greedy().noDefaultStopTokens();
        GoldenCases.visualsOf("image").forEach(b::visual);                    // the same picture, sent again
        GenerationRequest next = b.build();
        int[] want = polyv.generate(next).ids();                                // alone, no cache
        try (GenerationService service = new GenerationService(polyv, new GenerationService.Options(2, 4, 0))) {
            assertArrayEquals(answer, service.submit(first, TokenConsumer.NONE).get(60, TimeUnit.SECONDS).ids());
            GenerationResult r = service.submit(next, TokenConsumer.NONE).get(60, TimeUnit.SECONDS);
            assertArrayEquals(want, r.ids(), "turn 2 on the reused prefix");
            assertEquals(prompt.length + answer.length - 1, service.stats().reusedPromptTokens());
            assertEquals(0, r.timings().visionNanos(), "the picture was not encoded again");
        }
        assertThrows(IllegalArgumentException.class, () -> new GenerationService.Options(2, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new GenerationService.Options(2, 0, -1));
    }

    @Test
    void chunkedPrefillServesTheSameIds() throws Exception {
        try (GenerationService service = new GenerationService(polyv, new GenerationService.Options(3, 0, 4))) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (String c : GoldenCases.CASES) fs.add(service.submit(golden(c), TokenConsumer.NONE));
            for (int i = 0; i < GoldenCases.CASES.length; i++) {
                String c = GoldenCases.CASES[i];
                assertArrayEquals(GoldenCases.ints(GoldenCases.G.i64(c + ".greedy_ids")), fs.get(i).get(60, TimeUnit.SECONDS).ids(), c);
            }
        }
    }

    @Test
    void aKvBudgetAdmitsByCapacityAndRefusesWhatCouldNeverFit() throws Exception {
        String[] cases = GoldenCases.CASES;
        int context = polyv.config().text().maxPositionEmbeddings(), biggest = 0;
        for (String c : cases) biggest = Math.max(biggest, ai.polyv.core.generate.Generator.kvRows(polyv.prepare(golden(c)).job(), context));
        // room for the biggest alone: requests run one or two at a time, each still gets its golden ids
        try (GenerationService service = new GenerationService(polyv, new GenerationService.Options(4, 0, 0, biggest))) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            int[] peak = new int[1];
            for (String c : cases) {
                fs.add(service.submit(golden(c), (id, text) -> {
                    GenerationService.Stats s = service.stats();
                    peak[0] = (int) Math.max(peak[0], s.kvRowsInUse());
                }));
            }
            for (int i = 0; i < cases.length; i++) {
                assertArrayEquals(GoldenCases.ints(GoldenCases.G.i64(cases[i] + ".greedy_ids")), fs.get(i).get(60, TimeUnit.SECONDS).ids(), cases[i]);
            }
            assertTrue(peak[0] > 0 && peak[0] <= biggest, "KV rows in use peaked at " + peak[0] + " with a budget of " + biggest);
            GenerationRequest tooBig = GenerationRequest.builderOfIds(new int[] {1, 2, 3}).maxNewTokens(biggest).greedy().build();
            CompletionException e = assertThrows(CompletionException.class, () -> service.submit(tooBig, TokenConsumer.NONE).join());
            assertTrue(e.getCause() instanceof IllegalArgumentException && e.getCause().getMessage().contains("KV cache budget"), e.getCause().toString());
            GenerationService.Stats s = service.stats();
            assertEquals(0, s.kvRowsInUse());
            assertEquals(0, s.active());
            assertEquals(biggest, s.kvRowsBudget());
        }
    }

    @Test
    void closeFinishesSubmittedRequestsThenRefusesNewOnes() throws Exception {
        GenerationService service = new GenerationService(polyv, 2);
        CompletableFuture<GenerationResult> a = service.submit(golden("text"), TokenConsumer.NONE);
        CompletableFuture<GenerationResult> b = service.submit(golden("image"), TokenConsumer.NONE);
        service.close();
        assertTrue(a.isDone() && b.isDone());
        assertArrayEquals(GoldenCases.ints(GoldenCases.G.i64("image.greedy_ids")), b.get().ids());
        var e = assertThrows(IllegalStateException.class, () -> service.submit(golden("text"), TokenConsumer.NONE));
        assertEquals("the generation service is closed", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GenerationService(polyv, 0));
    }
}
