package org.rankadaptor.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Holds the source tree to the map in {@code docs/architecture.md}: arrows point down, every package
 * opens with a {@code package-info}, and a long file says why it is long. The rules live here rather
 * than in reviewers' memories; a new package fails until it is given a rule.
 */
class SourceLayoutTest {

  /** Main source roots of the modules, relative to the project root. */
  private static final List<String> SOURCE_ROOTS = List.of(
      "rankadaptor-core/src/main/java",
      "rankadaptor-dl4j/src/main/java",
      "rankadaptor-dl4j/src/main/java-incubator",
      "rankadaptor-spark/src/main/java",
      "rankadaptor-examples/src/main/java",
      "benchmarks/src/main/java");

  /** Lines above which a file must say, before its type's Javadoc, why it is one file. */
  private static final int LONG_FILE_LINES = 450;

  /**
   * For each package of the library, the packages of the project it may import. Packages not listed
   * (the examples, the benchmarks, Spark) sit on top and may import any library package.
   */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("org.rankadaptor", Set.of()),
      Map.entry("org.rankadaptor.demo", Set.of("org.rankadaptor")),
      Map.entry("org.rankadaptor.predictor", Set.of("org.rankadaptor")),
      Map.entry("org.rankadaptor.replay", Set.of("org.rankadaptor")),
      Map.entry("org.rankadaptor.dl4j.runtime", Set.of()),
      Map.entry("org.rankadaptor.dl4j.io", Set.of("org.rankadaptor")), // AtomicFiles
      Map.entry("org.rankadaptor.dl4j.llama", Set.of("org.rankadaptor", "org.rankadaptor.dl4j.io",
          "org.rankadaptor.dl4j.runtime")),
      Map.entry("org.rankadaptor.dl4j.predictor", Set.of("org.rankadaptor", "org.rankadaptor.predictor",
          "org.rankadaptor.dl4j.runtime")),
      Map.entry("org.rankadaptor.dl4j.prune", Set.of("org.rankadaptor", "org.rankadaptor.dl4j.io",
          "org.rankadaptor.dl4j.llama", "org.rankadaptor.dl4j.runtime")),
      Map.entry("org.rankadaptor.dl4j.recover", Set.of("org.rankadaptor", "org.rankadaptor.dl4j.io",
          "org.rankadaptor.dl4j.llama", "org.rankadaptor.dl4j.runtime")),
      Map.entry("org.rankadaptor.dl4j.eval", Set.of("org.rankadaptor", "org.rankadaptor.dl4j.io",
          "org.rankadaptor.dl4j.llama", "org.rankadaptor.dl4j.runtime")));

  /** The package of a project import: the lower-case segments before the first type name. */
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(org\\.rankadaptor(?:\\.[a-z0-9]+)*)\\.[A-Z]",
      Pattern.MULTILINE);

  private static final Pattern FOREIGN_TENSORS = Pattern.compile("^import (?:static )?org\\.(nd4j|deeplearning4j)\\.",
      Pattern.MULTILINE);

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void everyPackageOpensWithAPackageInfo() throws IOException {
    Set<String> packages = new TreeSet<>();
    Set<String> documented = new TreeSet<>();
    for (Path file : mainSources()) {
      String pkg = packageOf(file);
      packages.add(pkg);
      if (file.getFileName().toString().equals("package-info.java")) {
        documented.add(pkg);
      }
    }
    packages.removeAll(documented);
    assertTrue(packages.isEmpty(), "packages without a package-info.java: " + packages);
  }

  @Test
  void longFilesSayWhyTheyAreOneFile() throws IOException {
    List<String> unexplained = new ArrayList<>();
    for (Path file : mainSources()) {
      List<String> lines = Files.readAllLines(file);
      if (lines.size() > LONG_FILE_LINES && !explainsLength(lines)) {
        unexplained.add(ROOT.relativize(file) + " (" + lines.size() + " lines)");
      }
    }
    assertTrue(unexplained.isEmpty(), "files above " + LONG_FILE_LINES + " lines without a // comment before the"
        + " type's Javadoc saying why they are one file: " + unexplained);
  }

  @Test
  void arrowsPointDown() throws IOException {
    List<String> violations = new ArrayList<>();
    for (Path file : mainSources()) {
      String pkg = packageOf(file);
      String text = Files.readString(file);
      boolean top = Stream.of("spark", "examples", "benchmarks")
          .anyMatch(p -> pkg.startsWith("org.rankadaptor." + p));
      boolean dl4j = pkg.startsWith("org.rankadaptor.dl4j");
      if (!top && !dl4j && FOREIGN_TENSORS.matcher(text).find()) {
        violations.add(ROOT.relativize(file) + " imports ND4J or DL4J into the core");
      }
      if (top || pkg.equals("org.rankadaptor.dl4j")) {
        continue; // the top of the house, and the dl4j root that wires the packages together
      }
      Set<String> allowed = ALLOWED.get(pkg);
      if (allowed == null) {
        violations.add("package " + pkg + " has no rule in SourceLayoutTest.ALLOWED (and no line in"
            + " docs/architecture.md)");
        continue;
      }
      Matcher m = IMPORT.matcher(text);
      while (m.find()) {
        String imported = m.group(1);
        if (!imported.equals(pkg) && !allowed.contains(imported)) {
          violations.add(ROOT.relativize(file) + " imports " + imported);
        }
      }
    }
    assertTrue(violations.isEmpty(), "imports against the house rules: " + violations);
  }

  /** A {@code //} line between the imports (or package line) and the type's opening Javadoc. */
  private static boolean explainsLength(List<String> lines) {
    for (String line : lines) {
      String trimmed = line.trim();
      if (trimmed.startsWith("//")) {
        return true;
      }
      if (trimmed.startsWith("/**") || trimmed.startsWith("public ") || trimmed.startsWith("final ")
          || trimmed.startsWith("class ") || trimmed.startsWith("@")) {
        return false;
      }
    }
    return false;
  }

  private static String packageOf(Path file) throws IOException {
    try (Stream<String> lines = Files.lines(file)) {
      return lines.map(String::trim).filter(l -> l.startsWith("package ")).findFirst()
          .map(l -> l.substring("package ".length(), l.indexOf(';')))
          .orElseThrow(() -> new IllegalStateException(file + " has no package line"));
    }
  }

  private static List<Path> mainSources() throws IOException {
    List<Path> files = new ArrayList<>();
    for (String root : SOURCE_ROOTS) {
      Path dir = ROOT.resolve(root);
      assertTrue(Files.isDirectory(dir), "no source root " + dir + "; run the test from its module folder");
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
      }
    }
    assertTrue(files.size() > 100, "found only " + files.size() + " source files under " + ROOT);
    return files;
  }
}
