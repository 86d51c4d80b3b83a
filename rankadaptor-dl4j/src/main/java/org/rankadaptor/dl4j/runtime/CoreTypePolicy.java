package org.rankadaptor.dl4j.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime.CoreTypeAction;

/**
 * Decides which OpenBLAS kernel family ({@code OPENBLAS_CORETYPE}) to request before ND4J loads
 * OpenBLAS. A pure function of the platform so that every combination can be tested without loading
 * native code.
 *
 * <p>Why: the OpenBLAS 0.3.19 bundled with ND4J 1.0.0-M2.1 does not know recent CPUs (Sapphire and
 * Emerald Rapids among them) and falls back to its slowest "Prescott" kernels. Naming a kernel family
 * the CPU supports restores fast gemm; naming one it does not support kills the JVM with SIGILL on the
 * first matrix product, which is why every choice is checked against the CPU's flags.
 */
final class CoreTypePolicy {

  /** The environment variable OpenBLAS reads once, when the library is loaded. */
  static final String ENV_VARIABLE = "OPENBLAS_CORETYPE";

  /** Property value that lets this policy pick a kernel. */
  static final String AUTO = "auto";

  /** Property value that leaves OpenBLAS's own detection alone. */
  static final String OFF = "off";

  private CoreTypePolicy() {}

  /**
   * OpenBLAS kernel families this policy may request, with the Linux {@code /proc/cpuinfo} flags their
   * code needs (OpenBLAS compiles them for {@code -march=skylake-avx512}, {@code haswell}, ...).
   */
  enum Kernel {
    SKYLAKEX("SkylakeX", Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma")),
    HASWELL("Haswell", Set.of("avx2", "fma", "avx")),
    SANDYBRIDGE("Sandybridge", Set.of("avx")),
    PRESCOTT("Prescott", Set.of("pni"));

    /** The name as OpenBLAS spells it in {@code openblas_get_corename()}. */
    final String coreName;
    final Set<String> requiredFlags;

    Kernel(String coreName, Set<String> requiredFlags) {
      this.coreName = coreName;
      this.requiredFlags = requiredFlags;
    }

    List<String> missingFlags(Set<String> cpuFlags) {
      List<String> missing = new ArrayList<>();
      for (String flag : requiredFlags) {
        if (!cpuFlags.contains(flag)) {
          missing.add(flag);
        }
      }
      missing.sort(null);
      return missing;
    }
  }

  /** Kernels tried by {@code auto}, best first. Older CPUs keep OpenBLAS's own detection. */
  private static final List<Kernel> AUTO_ORDER = List.of(Kernel.SKYLAKEX, Kernel.HASWELL);

  /**
   * The outcome.
   *
   * @param action what to do with the environment variable
   * @param coreType the value to set ({@link CoreTypeAction#SET}) or the user's value kept
   *     ({@link CoreTypeAction#KEPT_USER_VALUE}); null otherwise
   * @param reason one sentence for the log and the provenance record
   * @param warning whether the outcome defeats what was asked (an unsupported explicit request,
   *     OpenBLAS already loaded, a user value naming kernels the CPU cannot run) and deserves a
   *     warning
   */
  record Decision(CoreTypeAction action, String coreType, String reason, boolean warning) {}

  /**
   * Decides what to do.
   *
   * @param requested the opt-out property's value: {@code auto}, {@code off} or a kernel name
   *     (case-insensitive); null means {@code auto}
   * @param osName {@code os.name}
   * @param osArch {@code os.arch}
   * @param cpuFlags the CPU's flags as Linux spells them ({@code avx2}, {@code avx512f}, ...); empty
   *     when unknown
   * @param existingValue the process's current {@code OPENBLAS_CORETYPE}; null when unset
   * @param openBlasLoaded whether OpenBLAS is already loaded (then setting the variable is too late)
   * @throws IllegalArgumentException when {@code requested} is neither {@code auto}, {@code off} nor
   *     a known kernel name
   */
  static Decision decide(
      String requested,
      String osName,
      String osArch,
      Set<String> cpuFlags,
      String existingValue,
      boolean openBlasLoaded) {
    String request = requested == null ? AUTO : requested.trim().toLowerCase(Locale.ROOT);
    Kernel explicit = null;
    if (!request.equals(AUTO) && !request.equals(OFF)) {
      explicit = kernelNamed(request);
      if (explicit == null) {
        throw new IllegalArgumentException(
            "system property "
                + Nd4jRuntime.CORE_TYPE_PROPERTY
                + "='"
                + requested
                + "' is not one of auto, off, "
                + knownNames());
      }
    }
    if (request.equals(OFF)) {
      return new Decision(
          CoreTypeAction.OPTED_OUT,
          null,
          Nd4jRuntime.CORE_TYPE_PROPERTY + "=off: OpenBLAS detects the CPU itself",
          false);
    }
    // An empty value means nothing to OpenBLAS; it is treated as unset.
    if (existingValue != null && !existingValue.isBlank()) {
      Kernel named = kernelNamed(existingValue.trim().toLowerCase(Locale.ROOT));
      List<String> missing =
          named != null && isLinuxX86_64(osName, osArch) ? named.missingFlags(cpuFlags) : List.of();
      if (!missing.isEmpty()) {
        // Kept all the same: the user's word wins, but the crash that follows deserves an explanation.
        return new Decision(
            CoreTypeAction.KEPT_USER_VALUE,
            existingValue,
            ENV_VARIABLE
                + "="
                + existingValue
                + " was set by the user and is kept, but the CPU lacks "
                + String.join(", ", missing)
                + ": OpenBLAS will die with SIGILL on its first matrix product",
            true);
      }
      return new Decision(
          CoreTypeAction.KEPT_USER_VALUE,
          existingValue,
          ENV_VARIABLE + "=" + existingValue + " was set by the user and is kept",
          false);
    }
    if (!isLinuxX86_64(osName, osArch)) {
      return new Decision(
          CoreTypeAction.UNCHANGED,
          null,
          "only Linux on x86-64 is tuned; this is " + osName + " on " + osArch,
          false);
    }
    if (openBlasLoaded) {
      return new Decision(
          CoreTypeAction.UNCHANGED,
          null,
          "OpenBLAS was loaded before Nd4jRuntime.ensureInitialized(), so its kernel is already fixed",
          true);
    }
    if (explicit != null) {
      List<String> missing = explicit.missingFlags(cpuFlags);
      if (!missing.isEmpty()) {
        return new Decision(
            CoreTypeAction.UNCHANGED,
            null,
            Nd4jRuntime.CORE_TYPE_PROPERTY
                + "="
                + requested
                + " ignored: the CPU lacks "
                + String.join(", ", missing),
            true);
      }
      return new Decision(
          CoreTypeAction.SET,
          explicit.coreName,
          "requested by " + Nd4jRuntime.CORE_TYPE_PROPERTY,
          false);
    }
    for (Kernel kernel : AUTO_ORDER) {
      if (kernel.missingFlags(cpuFlags).isEmpty()) {
        return new Decision(
            CoreTypeAction.SET,
            kernel.coreName,
            "the CPU has " + String.join(", ", sorted(kernel.requiredFlags)),
            false);
      }
    }
    return new Decision(
        CoreTypeAction.UNCHANGED,
        null,
        "the CPU has neither AVX-512 nor AVX2+FMA; OpenBLAS detects it itself",
        false);
  }

  /** Whether the platform is one where this policy may touch the environment. */
  static boolean isLinuxX86_64(String osName, String osArch) {
    return osName != null
        && osName.toLowerCase(Locale.ROOT).startsWith("linux")
        && ("amd64".equals(osArch) || "x86_64".equals(osArch));
  }

  private static Kernel kernelNamed(String lowerCaseName) {
    for (Kernel kernel : Kernel.values()) {
      if (kernel.coreName.toLowerCase(Locale.ROOT).equals(lowerCaseName)) {
        return kernel;
      }
    }
    return null;
  }

  private static String knownNames() {
    List<String> names = new ArrayList<>();
    for (Kernel kernel : Kernel.values()) {
      names.add(kernel.coreName);
    }
    return String.join(", ", names);
  }

  private static List<String> sorted(Set<String> flags) {
    List<String> list = new ArrayList<>(flags);
    list.sort(null);
    return list;
  }
}
