package org.rankadaptor.dl4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.rankadaptor.dl4j.runtime.CoreTypePolicy.Decision;
import org.rankadaptor.dl4j.runtime.CoreTypePolicy.Kernel;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime.CoreTypeAction;

class CoreTypePolicyTest {

  private static final List<String> FLAG_UNIVERSE =
      List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma", "avx", "pni");
  private static final Set<String> SKYLAKEX_FLAGS =
      Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma");
  private static final Set<String> HASWELL_FLAGS = Set.of("avx2", "fma", "avx");
  private static final List<String> OS_NAMES = List.of("Linux", "Mac OS X", "Windows 11", "FreeBSD");
  private static final List<String> ARCHES = List.of("amd64", "x86_64", "aarch64", "x86", "ppc64le");
  private static final List<String> EXISTING = Arrays.asList(null, "", "  ", "Zen", "skylakex");
  private static final List<String> REQUESTS =
      Arrays.asList(null, "auto", "off", "OFF", "Haswell", "skylakex", " prescott ");

  // First processor of this project's AMD EPYC (Zen 3) development machine: AVX2, no AVX-512.
  private static final String ZEN3_CPUINFO =
      """
      processor\t: 0
      vendor_id\t: AuthenticAMD
      cpu family\t: 25
      model name\t: AMD EPYC
      flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep sse sse2 ht syscall nx lm pni \
      pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand hypervisor \
      bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt vaes
      bugs\t\t: sysret_ss_attrs
      """;

  // A Sapphire Rapids guest, the CPU that OpenBLAS 0.3.19 calls "Prescott" on its own.
  private static final String SAPPHIRE_RAPIDS_CPUINFO =
      """
      processor\t: 0
      vendor_id\t: GenuineIntel
      model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
      flags\t\t: fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq \
      avx512ifma avx512cd avx512bw avx512vl avx512vbmi avx512_bf16 amx_bf16 amx_tile amx_int8
      """;

  @Test
  void everyCombinationFollowsTheRules() {
    int cases = 0;
    for (int mask = 0; mask < 1 << FLAG_UNIVERSE.size(); mask++) {
      Set<String> flags = new HashSet<>();
      for (int bit = 0; bit < FLAG_UNIVERSE.size(); bit++) {
        if ((mask & (1 << bit)) != 0) {
          flags.add(FLAG_UNIVERSE.get(bit));
        }
      }
      for (String os : OS_NAMES) {
        for (String arch : ARCHES) {
          for (String existing : EXISTING) {
            for (String request : REQUESTS) {
              for (boolean loaded : new boolean[] {false, true}) {
                check(flags, os, arch, existing, request, loaded);
                cases++;
              }
            }
          }
        }
      }
    }
    assertEquals(512 * 4 * 5 * 5 * 7 * 2, cases);
  }

  private static void check(
      Set<String> flags, String os, String arch, String existing, String request, boolean loaded) {
    Decision d = CoreTypePolicy.decide(request, os, arch, flags, existing, loaded);
    Supplier<String> where =
        () -> d + " for " + flags + " " + os + " " + arch + " '" + existing + "' " + request;
    String normalised = request == null ? "auto" : request.trim().toLowerCase();

    if (d.action() == CoreTypeAction.SET) {
      // Safety: a chosen kernel never needs an instruction the CPU lacks (that would be SIGILL).
      Kernel kernel = kernelOf(d.coreType());
      assertTrue(flags.containsAll(kernel.requiredFlags), where);
      assertTrue(os.equals("Linux") && (arch.equals("amd64") || arch.equals("x86_64")), where);
      assertTrue(existing == null || existing.isBlank(), where);
      assertFalse(loaded, where);
    }

    if (normalised.equals("off")) {
      assertEquals(CoreTypeAction.OPTED_OUT, d.action(), where);
      assertNull(d.coreType(), where);
    } else if (existing != null && !existing.isBlank()) {
      assertEquals(CoreTypeAction.KEPT_USER_VALUE, d.action(), where);
      assertEquals(existing, d.coreType(), where);
      boolean doomed =
          existing.equals("skylakex")
              && os.equals("Linux")
              && (arch.equals("amd64") || arch.equals("x86_64"))
              && !flags.containsAll(SKYLAKEX_FLAGS);
      assertEquals(doomed, d.warning(), where);
    } else if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      assertEquals(CoreTypeAction.UNCHANGED, d.action(), where);
      assertFalse(d.warning(), where);
    } else if (loaded) {
      assertEquals(CoreTypeAction.UNCHANGED, d.action(), where);
      assertTrue(d.warning(), where);
    } else if (normalised.equals("auto")) {
      if (flags.containsAll(SKYLAKEX_FLAGS)) {
        assertEquals("SkylakeX", d.coreType(), where);
      } else if (flags.containsAll(HASWELL_FLAGS)) {
        assertEquals("Haswell", d.coreType(), where);
      } else {
        assertEquals(CoreTypeAction.UNCHANGED, d.action(), where);
        assertFalse(d.warning(), where);
      }
    } else {
      Kernel requested = kernelOf(normalised);
      if (flags.containsAll(requested.requiredFlags)) {
        assertEquals(CoreTypeAction.SET, d.action(), where);
        assertEquals(requested.coreName, d.coreType(), where);
      } else {
        assertEquals(CoreTypeAction.UNCHANGED, d.action(), where);
        assertTrue(d.warning(), where);
        assertTrue(d.reason().contains("lacks"), where);
      }
    }
    if (d.action() != CoreTypeAction.SET && d.action() != CoreTypeAction.KEPT_USER_VALUE) {
      assertNull(d.coreType(), where);
    }
  }

  private static Kernel kernelOf(String name) {
    for (Kernel kernel : Kernel.values()) {
      if (kernel.coreName.equalsIgnoreCase(name)) {
        return kernel;
      }
    }
    throw new AssertionError("no kernel named " + name);
  }

  @Test
  void realCpuinfoLinesLeadToTheExpectedKernels() throws IOException {
    Set<String> zen3 = LinuxCpuFlags.parse(new BufferedReader(new StringReader(ZEN3_CPUINFO)));
    assertTrue(zen3.contains("avx2") && !zen3.contains("avx512f"), zen3.toString());
    assertEquals(
        "Haswell", CoreTypePolicy.decide("auto", "Linux", "amd64", zen3, null, false).coreType());

    Set<String> spr =
        LinuxCpuFlags.parse(new BufferedReader(new StringReader(SAPPHIRE_RAPIDS_CPUINFO)));
    assertEquals(
        "SkylakeX", CoreTypePolicy.decide("auto", "Linux", "amd64", spr, null, false).coreType());
    // Asking for AVX-512 kernels on the AVX2-only CPU is refused rather than crashing later.
    Decision refused = CoreTypePolicy.decide("SkylakeX", "Linux", "amd64", zen3, null, false);
    assertEquals(CoreTypeAction.UNCHANGED, refused.action());
    assertTrue(refused.reason().contains("avx512f"), refused.reason());
  }

  @Test
  void cpuinfoWithoutFlagsOrBeyondTheLineBoundGivesNoFlags() throws IOException {
    assertEquals(Set.of(), LinuxCpuFlags.parse(new BufferedReader(new StringReader(""))));
    assertEquals(
        Set.of(), LinuxCpuFlags.parse(new BufferedReader(new StringReader("flags\t:\nfoo: bar\n"))));
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < LinuxCpuFlags.MAX_LINES; i++) {
      lines.add("filler\t: " + i);
    }
    lines.add("flags\t: avx2 fma avx");
    String late = String.join("\n", lines);
    assertEquals(Set.of(), LinuxCpuFlags.parse(new BufferedReader(new StringReader(late))));
    assertEquals(Set.of(), LinuxCpuFlags.read(java.nio.file.Path.of("/nonexistent/cpuinfo")));
  }

  @Test
  void unknownRequestIsRejectedNamingPropertyAndValue() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CoreTypePolicy.decide("Skylake-X", "Linux", "amd64", Set.of(), null, false));
    assertTrue(e.getMessage().contains(Nd4jRuntime.CORE_TYPE_PROPERTY), e.getMessage());
    assertTrue(e.getMessage().contains("Skylake-X"), e.getMessage());
  }
}
