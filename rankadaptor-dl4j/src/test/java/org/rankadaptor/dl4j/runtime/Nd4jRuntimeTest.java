package org.rankadaptor.dl4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime.CoreTypeAction;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime.Report;

/**
 * The runtime in this JVM (idempotence) and in fresh JVMs, since OpenBLAS reads its core type only
 * once per process, when it is loaded.
 */
class Nd4jRuntimeTest {

  private static final long CHILD_TIMEOUT_SECONDS = 180;

  @TempDir Path temp;

  @Test
  void ensureInitializedIsIdempotentAcrossThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Report>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(Nd4jRuntime::ensureInitialized);
      }
      List<Future<Report>> results = pool.invokeAll(calls);
      Report first = results.get(0).get();
      for (Future<Report> result : results) {
        assertSame(first, result.get());
      }
      assertSame(first, Nd4jRuntime.ensureInitialized());
      assertSame(first, Nd4jRuntime.report());
      assertTrue(first.blasThreads() >= 1 && first.nd4jThreads() >= 1, first.toString());
      assertNotNull(first.blasVendor());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void freshJvmRunsTheChosenKernel() throws Exception {
    assumeLinuxX86();
    Set<String> flags = LinuxCpuFlags.read(Path.of("/proc/cpuinfo"));
    CoreTypePolicy.Decision expected =
        CoreTypePolicy.decide("auto", "Linux", "amd64", flags, null, false);
    assumeTrue(
        expected.action() == CoreTypeAction.SET, "no AVX2 or AVX-512 here: " + expected.reason());

    Report report = runChild(List.of(), Map.of());
    assertEquals(CoreTypeAction.SET, report.action(), report.toString());
    assertEquals(expected.coreType(), report.coreType(), report.toString());
    assertEquals("OPENBLAS", report.blasVendor(), report.toString());
    // The proof that the variable reached OpenBLAS: it reports running the chosen kernels.
    assertTrue(report.coreType().equalsIgnoreCase(report.blasCoreName()), report.toString());
  }

  @Test
  void userValueIsKeptAndReachesOpenBlas() throws Exception {
    assumeLinuxX86();
    // Prescott kernels run on every x86-64 CPU and are what this module would never choose.
    Report report = runChild(List.of(), Map.of(CoreTypePolicy.ENV_VARIABLE, "Prescott"));
    assertEquals(CoreTypeAction.KEPT_USER_VALUE, report.action(), report.toString());
    assertTrue(report.userSettingKept());
    assertEquals("Prescott", report.coreType());
    assertEquals("Prescott", report.blasCoreName(), report.toString());
  }

  @Test
  void optOutPropertyLeavesOpenBlasAlone() throws Exception {
    assumeLinuxX86();
    Report report = runChild(List.of("-D" + Nd4jRuntime.CORE_TYPE_PROPERTY + "=off"), Map.of());
    assertEquals(CoreTypeAction.OPTED_OUT, report.action(), report.toString());
    assertNull(report.coreType());
    assertNotNull(report.blasCoreName(), report.toString());
  }

  @Test
  void threadsPropertySetsNd4jAndBlasThreads() throws Exception {
    assumeLinuxX86();
    Report report = runChild(List.of("-D" + Nd4jRuntime.THREADS_PROPERTY + "=1"), Map.of());
    assertEquals(1, report.blasThreads(), report.toString());
    assertEquals(1, report.nd4jThreads(), report.toString());
  }

  @Test
  void invalidThreadCountsAreRejectedNamingTheProperty() {
    assertEquals(0, Nd4jRuntime.requestedThreads(null));
    assertEquals(0, Nd4jRuntime.requestedThreads(" "));
    assertEquals(3, Nd4jRuntime.requestedThreads(" 3 "));
    for (String bad : List.of("0", "-2", "two", "1025", "99999999999")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Nd4jRuntime.requestedThreads(bad));
      assertTrue(
          e.getMessage().contains(Nd4jRuntime.THREADS_PROPERTY) && e.getMessage().contains(bad),
          e.getMessage());
    }
  }

  @Test
  void touchingNd4jFirstIsReportedAsTooLate() throws Exception {
    assumeLinuxX86();
    Report report = runChild(List.of(), Map.of(), "nd4j-first");
    assertEquals(CoreTypeAction.UNCHANGED, report.action(), report.toString());
    assertTrue(report.reason().contains("loaded before"), report.reason());
  }

  @Test
  void thePerformanceModelInitialisesTheRuntimeBeforeItsFirstNd4jOperation() throws Exception {
    assumeLinuxX86();
    Report report = runChild(List.of(), Map.of(), "mlp-first");
    assertFalse(report.reason().contains("loaded before"), report.toString());
  }

  private static void assumeLinuxX86() {
    assumeTrue(
        CoreTypePolicy.isLinuxX86_64(System.getProperty("os.name"), System.getProperty("os.arch")),
        "OPENBLAS_CORETYPE is only tuned on Linux x86-64");
  }

  /**
   * Runs {@link Nd4jRuntimeProbe} in a new JVM with {@code OPENBLAS_CORETYPE} and
   * {@code OMP_NUM_THREADS} removed from its environment unless {@code environment} sets them.
   */
  private Report runChild(List<String> jvmArgs, Map<String, String> environment, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Nd4jRuntimeProbe.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove(CoreTypePolicy.ENV_VARIABLE);
    builder.environment().remove("OMP_NUM_THREADS");
    builder.environment().putAll(environment);
    File output = temp.resolve("child-" + System.nanoTime() + ".log").toFile();
    builder.redirectErrorStream(true).redirectOutput(output);
    Process process = builder.start();
    if (!process.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child JVM did not finish in " + CHILD_TIMEOUT_SECONDS + " s");
    }
    List<String> lines = Files.readAllLines(output.toPath(), StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), String.join("\n", lines));
    for (String line : lines) {
      if (line.startsWith(Nd4jRuntimeProbe.MARKER)) {
        return new ObjectMapper()
            .readValue(line.substring(Nd4jRuntimeProbe.MARKER.length()), Report.class);
      }
    }
    throw new AssertionError("no report in the child's output:\n" + String.join("\n", lines));
  }
}
