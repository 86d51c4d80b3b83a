package org.rankadaptor.dl4j.runtime;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads ND4J once, with OpenBLAS running kernels this CPU supports and runs fast.
 *
 * <p>The OpenBLAS bundled with ND4J 1.0.0-M2.1 misdetects recent CPUs (Sapphire and Emerald Rapids
 * among them) as "Prescott" and multiplies matrices several times slower than it could. OpenBLAS reads
 * {@code OPENBLAS_CORETYPE} from the process environment once, when it is loaded, so
 * {@link #ensureInitialized()} sets that variable through libc before ND4J loads OpenBLAS: to
 * {@code SkylakeX} when Linux reports AVX-512 (F, CD, BW, DQ, VL), to {@code Haswell} when it reports
 * AVX2 and FMA, and to nothing otherwise. It never overrides a value the user set, and does nothing on
 * other operating systems or architectures.
 *
 * <p>Every entry point of this module (model, predictor, pruning, recovery) must call
 * {@link #ensureInitialized()} before its first ND4J call, and so should an application that touches
 * ND4J itself; once OpenBLAS is loaded its kernel can no longer change, which
 * {@link Report#reason()} then says.
 *
 * <p>The system property {@value #CORE_TYPE_PROPERTY} controls the choice: {@code auto} (default),
 * {@code off} (leave OpenBLAS's own detection alone), or a kernel name ({@code SkylakeX},
 * {@code Haswell}, {@code Sandybridge}, {@code Prescott}), used only when the CPU supports it.
 *
 * <p>Threads stay as ND4J chooses them (one per physical core) unless {@value #THREADS_PROPERTY} says
 * otherwise. On a machine whose cores are busy with other work, fewer threads can be faster: a gemm
 * split over two threads waits for the slower one.
 *
 * <p>Variables set here are in the native process environment, which child processes started without
 * an explicit environment inherit.
 *
 * @since 0.1.0
 */
public final class Nd4jRuntime {

  /** System property: {@code auto} (default), {@code off}, or an OpenBLAS kernel name. */
  public static final String CORE_TYPE_PROPERTY = "rankadaptor.openblas.coretype";

  /**
   * System property: threads for ND4J's own operations and for BLAS, from 1 to 1024.
   * Unset, ND4J's choice (one per physical core) stands; a user's {@code OMP_NUM_THREADS} wins over
   * it.
   */
  public static final String THREADS_PROPERTY = "rankadaptor.nd4j.threads";

  static final int MAX_THREADS = 1024;

  private static final String OMP_THREADS_VARIABLE = "OMP_NUM_THREADS";

  /**
   * System property for how ND4J's OpenMP threads wait between parallel regions: {@code passive}
   * (default), {@code active}, or {@code off} to leave {@code OMP_WAIT_POLICY} alone. A user's own
   * {@code OMP_WAIT_POLICY} always wins.
   */
  public static final String WAIT_POLICY_PROPERTY = "rankadaptor.omp.wait";

  private static final String OMP_WAIT_VARIABLE = "OMP_WAIT_POLICY";

  private static final Logger log = LoggerFactory.getLogger(Nd4jRuntime.class);

  // JavaCPP's name for the OpenBLAS build in which ND4J's matrix products run; ND4J also loads
  // "openblas@.0", a second copy that reads the same environment variable.
  private static final String ND4J_OPENBLAS_KEY = "openblas_nolapack@.0";

  private static Report report;

  private Nd4jRuntime() {}

  /** What {@link #ensureInitialized()} did about {@code OPENBLAS_CORETYPE}. */
  public enum CoreTypeAction {
    /** The variable was set to {@link Report#coreType()} before OpenBLAS loaded. */
    SET,
    /** The user had set the variable; their value, {@link Report#coreType()}, was left in force. */
    KEPT_USER_VALUE,
    /** The system property said {@code off}. */
    OPTED_OUT,
    /** Nothing was set; {@link Report#reason()} says why (platform, CPU, or OpenBLAS loaded early). */
    UNCHANGED
  }

  /**
   * What the runtime looks like after initialisation, for logs and provenance records.
   *
   * @param action what was done about {@code OPENBLAS_CORETYPE}
   * @param coreType the {@code OPENBLAS_CORETYPE} value in force when OpenBLAS loaded (ours or the
   *     user's); null when none was
   * @param reason why, in one sentence
   * @param blasVendor ND4J's BLAS vendor ({@code OPENBLAS}, {@code MKL}, ...)
   * @param blasCoreName the kernel family OpenBLAS reports running ({@code openblas_get_corename()});
   *     null when the vendor is not OpenBLAS or it cannot be asked
   * @param blasThreads threads the BLAS library uses
   * @param nd4jThreads threads ND4J's own operations use
   * @param ompWaitPolicy the {@code OMP_WAIT_POLICY} in force when ND4J loaded, or null when unset
   */
  public record Report(
      CoreTypeAction action,
      String coreType,
      String reason,
      String blasVendor,
      String blasCoreName,
      int blasThreads,
      int nd4jThreads,
      String ompWaitPolicy) {

    /** Whether a value the user put in the environment was respected. */
    public boolean userSettingKept() {
      return action == CoreTypeAction.KEPT_USER_VALUE;
    }
  }

  /**
   * Chooses the OpenBLAS kernel, then loads ND4J. Idempotent and thread-safe: the first call does the
   * work (about a second, mostly ND4J's native libraries), later calls return the same report.
   *
   * @return what was done and what ND4J now runs on
   * @throws IllegalArgumentException when {@value #CORE_TYPE_PROPERTY} or {@value #THREADS_PROPERTY}
   *     has an invalid value
   */
  public static synchronized Report ensureInitialized() {
    if (report == null) {
      report = initialize();
    }
    return report;
  }

  /** The report of the initialisation, or null when {@link #ensureInitialized()} has not run yet. */
  public static synchronized Report report() {
    return report;
  }

  private static Report initialize() {
    String osName = System.getProperty("os.name", "");
    String osArch = System.getProperty("os.arch", "");
    String requested = System.getProperty(CORE_TYPE_PROPERTY, CoreTypePolicy.AUTO);
    int threads = requestedThreads(System.getProperty(THREADS_PROPERTY));
    boolean linuxX86 = CoreTypePolicy.isLinuxX86_64(osName, osArch);

    LinuxNative.LibC libc = null;
    String libcProblem = null;
    if (linuxX86) {
      try {
        libc = LinuxNative.libc();
      } catch (LinkageError e) {
        libcProblem = "libc is unreachable through JNA (" + e.getMessage() + ")";
      }
    }
    String existing =
        libc != null
            ? libc.getenv(CoreTypePolicy.ENV_VARIABLE)
            : System.getenv(CoreTypePolicy.ENV_VARIABLE);
    Set<String> flags = linuxX86 ? LinuxCpuFlags.read(Path.of("/proc/cpuinfo")) : Set.of();

    CoreTypePolicy.Decision decision =
        CoreTypePolicy.decide(
            requested, osName, osArch, flags, existing, openBlasLibraryPath() != null);
    if (decision.action() == CoreTypeAction.SET) {
      decision = applyToEnvironment(decision, libc, libcProblem, existing);
    }
    if (threads > 0) {
      threads = applyThreadsToEnvironment(threads, libc);
    }
    String waitPolicy = applyWaitPolicy(System.getProperty(WAIT_POLICY_PROPERTY, "passive"), libc);
    // Said before ND4J loads, in case what follows is a crash.
    if (decision.warning()) {
      log.warn("OpenBLAS kernel: {}", decision.reason());
    }

    Nd4j.getBackend();
    Blas blas = Nd4j.factory().blas();
    if (threads > 0) {
      // ND4J sized these from its own core count, ignoring the native environment set above.
      blas.setMaxThreads(threads);
      NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
    }
    Blas.Vendor vendor = blas.getBlasVendor();
    String libraryPath = openBlasLibraryPath();
    String coreName =
        vendor == Blas.Vendor.OPENBLAS && libraryPath != null && osName.startsWith("Linux")
            ? LinuxNative.openBlasCoreName(libraryPath)
            : null;
    Report result =
        new Report(
            decision.action(),
            decision.coreType(),
            decision.reason(),
            vendor.name(),
            coreName,
            blas.getMaxThreads(),
            Nd4j.getEnvironment().maxThreads(),
            waitPolicy);

    boolean mismatch =
        result.coreType() != null
            && result.blasCoreName() != null
            && !result.coreType().equalsIgnoreCase(result.blasCoreName());
    if (mismatch) {
      log.warn("ND4J runtime (OpenBLAS runs other kernels than requested): {}", result);
    } else {
      log.info("ND4J runtime: {}", result);
    }
    return result;
  }

  /**
   * Puts the requested wait policy into {@code OMP_WAIT_POLICY} unless the user set one. OpenMP reads
   * it when libnd4j loads; spinning waits (the default of most OpenMP runtimes) made the model's
   * training steps many times slower on a 2-core machine with other work on it.
   *
   * @return the policy in force, or null when none is set
   */
  static String applyWaitPolicy(String requested, LinuxNative.LibC libc) {
    String policy = requested.trim().toLowerCase(java.util.Locale.ROOT);
    if (!policy.equals("passive") && !policy.equals("active") && !policy.equals("off")) {
      throw new IllegalArgumentException(
          "system property " + WAIT_POLICY_PROPERTY + "='" + requested + "' is not passive, active or off");
    }
    String existing = libc != null ? libc.getenv(OMP_WAIT_VARIABLE) : System.getenv(OMP_WAIT_VARIABLE);
    if (existing != null || policy.equals("off") || libc == null) {
      return existing;
    }
    String value = policy.toUpperCase(java.util.Locale.ROOT);
    if (libc.setenv(OMP_WAIT_VARIABLE, value, 0) != 0) {
      log.warn("setenv({}) failed; OpenMP keeps its default wait policy", OMP_WAIT_VARIABLE);
      return null;
    }
    return value;
  }

  /** The thread count asked for by {@value #THREADS_PROPERTY}, or 0 when it is unset. */
  static int requestedThreads(String value) {
    if (value == null || value.isBlank()) {
      return 0;
    }
    int threads;
    try {
      threads = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      threads = -1;
    }
    if (threads < 1 || threads > MAX_THREADS) {
      throw new IllegalArgumentException(
          "system property "
              + THREADS_PROPERTY
              + "='"
              + value
              + "' is not a whole number from 1 to "
              + MAX_THREADS);
    }
    return threads;
  }

  /**
   * Puts the requested thread count into {@code OMP_NUM_THREADS}, which libnd4j's thread pool, OpenMP
   * and OpenBLAS read when they load. Returns the count to apply through ND4J afterwards, or 0 when
   * the user's own {@code OMP_NUM_THREADS} is to stand.
   */
  private static int applyThreadsToEnvironment(int threads, LinuxNative.LibC libc) {
    String existing =
        libc != null ? libc.getenv(OMP_THREADS_VARIABLE) : System.getenv(OMP_THREADS_VARIABLE);
    if (existing != null && !existing.isBlank()) {
      log.warn(
          "{}={} ignored: the environment sets {}={}",
          THREADS_PROPERTY,
          threads,
          OMP_THREADS_VARIABLE,
          existing);
      return 0;
    }
    if (libc != null && libc.setenv(OMP_THREADS_VARIABLE, Integer.toString(threads), 1) != 0) {
      log.warn(
          "setenv({}) failed; only ND4J's BLAS and OpenMP calls get {} threads",
          OMP_THREADS_VARIABLE,
          threads);
    }
    return threads;
  }

  private static CoreTypePolicy.Decision applyToEnvironment(
      CoreTypePolicy.Decision decision, LinuxNative.LibC libc, String libcProblem, String existing) {
    if (libc == null) {
      return new CoreTypePolicy.Decision(CoreTypeAction.UNCHANGED, null, libcProblem, true);
    }
    // Overwrite only an empty value; an unset variable is created, a non-empty one never reaches here.
    int overwrite = existing == null ? 0 : 1;
    int rc = libc.setenv(CoreTypePolicy.ENV_VARIABLE, decision.coreType(), overwrite);
    if (rc != 0) {
      return new CoreTypePolicy.Decision(
          CoreTypeAction.UNCHANGED,
          null,
          "setenv(" + CoreTypePolicy.ENV_VARIABLE + ") failed with " + rc,
          true);
    }
    return decision;
  }

  /** Path of the OpenBLAS library JavaCPP has loaded, or null while none is. */
  private static String openBlasLibraryPath() {
    Map<String, String> loaded = Loader.getLoadedLibraries();
    String path = loaded.get(ND4J_OPENBLAS_KEY);
    if (path != null) {
      return path;
    }
    for (Map.Entry<String, String> entry : loaded.entrySet()) {
      if (entry.getKey().startsWith("openblas")) {
        return entry.getValue();
      }
    }
    return null;
  }
}
