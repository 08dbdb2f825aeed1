package ai.polyv.cuda.driver;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** cuBLAS status names: the table, and the library's own answer where libcublas is present (no GPU needed). */
class CublasLibraryTest {

    @Test
    void statusNamesFollowCublasApiH() {
        assertEquals("CUBLAS_STATUS_SUCCESS", Cublas.fallbackName(0));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.fallbackName(7));
        assertEquals("CUBLAS_STATUS_ARCH_MISMATCH", Cublas.fallbackName(8));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.fallbackName(15));
        assertEquals("CUBLAS_STATUS_99", Cublas.fallbackName(99));
    }

    @Test
    void theLibraryAgreesWithTheTable() {
        NativeLibraries.Loaded lib;
        try {
            lib = Cublas.load();
        } catch (CudaUnavailableException e) {
            assumeTrue(false, "cuBLAS not available, skipping: " + e.getMessage());
            return;
        }
        for (int s : new int[] {0, 1, 3, 7, 8, 11, 13, 14, 15, 16}) {
            assertEquals(Cublas.fallbackName(s), Cublas.libraryStatusName(lib, s), "status " + s);
        }
    }
}
