package org.rankadaptor.dl4j.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.Properties;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a run ran: the library's version, the Java runtime, the operating system and processor
 * architecture, ND4J's version and backend, and what {@link Nd4jRuntime} set up (BLAS vendor, kernel
 * family, threads). Numbers from one version on one machine may differ in the last digits from another's;
 * this record says which. Serialised by Jackson as it is and read back equal.
 *
 * @param libraryVersion RankAdaptor's version, from the build; {@code dev} when run from sources the build
 *     did not filter
 * @param javaVersion the Java runtime's version ({@code java.version})
 * @param javaVendor its vendor ({@code java.vendor})
 * @param os the operating system's name and version
 * @param arch the processor architecture ({@code os.arch})
 * @param nd4jVersion ND4J's version from its jar; {@code unknown} when the jar does not say
 * @param nd4jBackend the class of ND4J's backend, such as {@code org.nd4j.linalg.cpu.nativecpu.CpuBackend}
 * @param runtime what {@link Nd4jRuntime#ensureInitialized()} did and found
 * @since 0.1.0
 */
public record EnvironmentProvenance(
    String libraryVersion,
    String javaVersion,
    String javaVendor,
    String os,
    String arch,
    String nd4jVersion,
    String nd4jBackend,
    Nd4jRuntime.Report runtime) {

  /** A version when the build left none: run from an IDE's classes, say. */
  public static final String DEV_VERSION = "dev";

  private static final String VERSION_RESOURCE = "version.properties";

  /** Every field is required. */
  public EnvironmentProvenance {
    Objects.requireNonNull(libraryVersion, "libraryVersion");
    Objects.requireNonNull(javaVersion, "javaVersion");
    Objects.requireNonNull(javaVendor, "javaVendor");
    Objects.requireNonNull(os, "os");
    Objects.requireNonNull(arch, "arch");
    Objects.requireNonNull(nd4jVersion, "nd4jVersion");
    Objects.requireNonNull(nd4jBackend, "nd4jBackend");
    Objects.requireNonNull(runtime, "runtime");
  }

  /** This process's environment; initialises ND4J when nothing has yet. */
  public static EnvironmentProvenance current() {
    Nd4jRuntime.Report report = Nd4jRuntime.ensureInitialized();
    return new EnvironmentProvenance(
        currentLibraryVersion(),
        System.getProperty("java.version", "unknown"),
        System.getProperty("java.vendor", "unknown"),
        System.getProperty("os.name", "unknown") + " " + System.getProperty("os.version", ""),
        System.getProperty("os.arch", "unknown"),
        mavenVersion(Nd4j.class, "org.nd4j", "nd4j-api"),
        Nd4j.getBackend().getClass().getName(),
        report);
  }

  /**
   * RankAdaptor's version, as the build wrote it into a resource beside this class (in the jar and in the
   * build's classes alike), or {@value #DEV_VERSION} when the classes were built without that resource.
   */
  public static String currentLibraryVersion() {
    String filtered = property(EnvironmentProvenance.class, VERSION_RESOURCE, "version");
    // An unfiltered copy (the sources' own) still holds the placeholder.
    return filtered == null || filtered.isBlank() || filtered.contains("${") ? DEV_VERSION : filtered;
  }

  /** A jar's version from the {@code pom.properties} Maven puts in it; {@code unknown} without one. */
  private static String mavenVersion(Class<?> inJar, String groupId, String artifactId) {
    String version =
        property(inJar, "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties", "version");
    return version == null ? "unknown" : version;
  }

  private static String property(Class<?> anchor, String resource, String key) {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        return null;
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty(key);
    } catch (IOException e) {
      return null; // provenance must not stop a run: the caller falls back
    }
  }
}
