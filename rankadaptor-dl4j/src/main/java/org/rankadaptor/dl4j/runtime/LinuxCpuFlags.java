package org.rankadaptor.dl4j.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/** The CPU feature flags Linux lists in {@code /proc/cpuinfo} ({@code avx2}, {@code avx512f}, ...). */
final class LinuxCpuFlags {

  /**
   * Lines read before giving up. The first processor's {@code flags} line comes within its first
   * thirty lines; the bound only guards against a file that is not what it should be.
   */
  static final int MAX_LINES = 200;

  private LinuxCpuFlags() {}

  /**
   * Reads the flags of the first processor listed in {@code cpuinfo}. Linux lists a feature only when
   * both the CPU and the kernel (XSAVE state) support it, which is what running a kernel needs.
   *
   * @return the flags, lower case; empty when the file is missing, unreadable or has no flags line
   */
  static Set<String> read(Path cpuinfo) {
    try (BufferedReader reader = Files.newBufferedReader(cpuinfo, StandardCharsets.ISO_8859_1)) {
      return parse(reader);
    } catch (IOException | SecurityException e) {
      return Set.of();
    }
  }

  /** Parses the first {@code flags : ...} line among the first {@link #MAX_LINES} lines. */
  static Set<String> parse(BufferedReader reader) throws IOException {
    String line;
    for (int i = 0; i < MAX_LINES && (line = reader.readLine()) != null; i++) {
      int colon = line.indexOf(':');
      if (colon < 0 || !line.substring(0, colon).trim().equals("flags")) {
        continue;
      }
      String value = line.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
      return value.isEmpty() ? Set.of() : Set.of(value.split("\\s+"));
    }
    return Set.of();
  }
}
