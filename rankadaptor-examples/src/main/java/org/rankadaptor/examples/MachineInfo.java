package org.rankadaptor.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

/**
 * The machine a report was made on, as its Setup records it.
 *
 * @param cpuModel the processor's model name, or the architecture where the system does not say
 * @param hardwareThreads hardware threads the JVM sees
 * @param javaVersion the Java version
 * @param osName the operating system
 * @param osArch its architecture
 * @param nd4j how ND4J was started (BLAS kernel, threads)
 */
record MachineInfo(String cpuModel, int hardwareThreads, String javaVersion, String osName, String osArch,
    String nd4j) {

  /** This machine. */
  static MachineInfo detect() {
    return new MachineInfo(detectCpuModel(), Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), System.getProperty("os.name"), System.getProperty("os.arch"),
        Nd4jRuntime.report().toString());
  }

  /** The processor's model name from {@code /proc/cpuinfo}, or the architecture elsewhere. */
  static String detectCpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: the architecture still says something.
    }
    return System.getProperty("os.arch");
  }
}
