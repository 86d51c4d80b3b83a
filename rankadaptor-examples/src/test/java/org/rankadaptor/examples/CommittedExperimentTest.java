package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.testing.SharedFiles;

/**
 * A committed experiment re-rendered from its stores: {@code rankadaptor experiment} run again on a copy of
 * {@code docs/deep-experiment-uneven} with the command it records must train nothing and write the committed
 * {@code report.md}, {@code experiment.json} and figures again. The lines that record the run itself differ
 * and are not compared: the command (its folders), the machine, the run's times, and the order of the
 * inputs' list (which the committed report took from {@code Map.of}, whose order changes per JVM).
 *
 * <p>It needs the deep test model that {@code rankadaptor pretrain} caches: {@code ../runs/cache}, or the
 * folder the system property {@code rankadaptor.test.cache} names; without it the test is skipped.
 */
class CommittedExperimentTest {

  private static final Path COMMITTED = Path.of("..", "docs", "deep-experiment-uneven");

  @TempDir Path dir;

  @Test
  void theDeepUnevenExperimentReRendersFromItsStoresAsCommitted() throws IOException {
    Path data = SharedFiles.require("data");
    Path cache = Path.of(System.getProperty("rankadaptor.test.cache", "../runs/cache"));
    if (!Files.isDirectory(COMMITTED.resolve("width-global-50"))) {
      abort("no committed experiment at " + COMMITTED.toAbsolutePath());
    }
    if (!Files.isDirectory(cache)) {
      abort("no cached deep test model at " + cache.toAbsolutePath() + " (rankadaptor pretrain --cache DIR, then "
          + "-Drankadaptor.test.cache=DIR)");
    }
    Path out = dir.resolve("out");
    copy(COMMITTED, out);
    ObjectMapper json = new ObjectMapper();
    ObjectNode committed = (ObjectNode) json.readTree(COMMITTED.resolve(ExperimentReport.JSON_FILE).toFile());
    List<String> args = new ArrayList<>(Arrays.asList(committed.path("command").asText().split(" ")));
    args.set(args.indexOf("--out") + 1, out.toString());
    args.set(args.indexOf("--cache") + 1, cache.toString());
    args.addAll(List.of("--data", data.toString()));

    CommandRun run = CommandRun.execute(args.toArray(String[]::new));

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).doesNotContain("recovering");
    ObjectNode rendered = (ObjectNode) json.readTree(out.resolve(ExperimentReport.JSON_FILE).toFile());
    for (ObjectNode node : List.of(committed, rendered)) {
      node.remove(List.of("command", "started", "finished"));
    }
    assertThat(rendered).isEqualTo(committed);
    assertThat(comparable(out.resolve(ExperimentReport.REPORT_FILE)))
        .isEqualTo(comparable(COMMITTED.resolve(ExperimentReport.REPORT_FILE)));
    try (Stream<Path> figures = Files.list(COMMITTED.resolve(ExperimentReport.FIGURES))) {
      for (Path figure : figures.toList()) {
        assertThat(out.resolve(ExperimentReport.FIGURES).resolve(figure.getFileName().toString()))
            .as(figure.getFileName().toString()).hasSameBinaryContentAs(figure);
      }
    }
  }

  /** The report's lines without those that record the run, the inputs' list sorted. */
  private static List<String> comparable(Path report) throws IOException {
    List<String> lines = new ArrayList<>();
    List<String> inputs = new ArrayList<>();
    for (String line : Files.readAllLines(report)) {
      if (line.startsWith("  - ")) {
        inputs.add(line);
      } else if (!line.startsWith("- **Command**") && !line.startsWith("- **Machine**")
          && !line.startsWith("- **Run**")) {
        lines.add(line);
      }
    }
    inputs.sort(null);
    lines.addAll(inputs);
    return lines;
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }
}
