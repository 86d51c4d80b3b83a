package org.rankadaptor.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rankadaptor.Evaluation;
import org.rankadaptor.dl4j.llama.LlamaConfig;

/**
 * The experiment's report folder: {@code report.md} (the main table, the searches, findings computed from
 * the numbers, the setup), its SVG figures and {@code experiment.json} with every number the tables show.
 * This type only decides what goes where: {@link ExperimentStats} computes, {@link MarkdownReport},
 * {@link ExperimentFigures} and {@link ExperimentJson} render, {@link MachineInfo} describes the machine.
 */
final class ExperimentReport {

  static final String REPORT_FILE = "report.md";
  static final String JSON_FILE = "experiment.json";
  static final String FIGURES = "figures";

  private final ExperimentSetup setup;
  private final LlamaConfig original;
  private final Map<String, Evaluation> unpruned;
  private final List<SettingRun> runs;
  private final ExperimentStats stats;

  ExperimentReport(ExperimentSetup setup, LlamaConfig original, Map<String, Evaluation> unpruned,
      List<SettingRun> runs) {
    this.setup = Objects.requireNonNull(setup, "setup");
    this.original = Objects.requireNonNull(original, "original");
    // Insertion order, not Map.copyOf's per-JVM order: the JSON and the findings' sums come out the same every run.
    this.unpruned = Collections.unmodifiableMap(new LinkedHashMap<>(unpruned));
    this.runs = List.copyOf(runs);
    this.stats = new ExperimentStats(setup, this.unpruned, this.runs);
  }

  /**
   * Writes the report, its figures and the JSON of its numbers into {@code dir}.
   *
   * @return the report file
   */
  Path write(Path dir) throws IOException {
    Path figures = Files.createDirectories(dir.resolve(FIGURES));
    Files.writeString(figures.resolve("ranks.svg"), ExperimentFigures.ranks(original, runs).toSvg());
    for (SettingRun run : runs) {
      Files.writeString(figures.resolve(run.setting().name() + "-predicted.svg"),
          ExperimentFigures.predicted(run).toSvg());
      Files.writeString(figures.resolve(run.setting().name() + "-fine-tunes.svg"),
          ExperimentFigures.fineTunes(run).toSvg());
    }
    ExperimentJson.write(dir.resolve(JSON_FILE), setup, unpruned, runs);
    Path report = dir.resolve(REPORT_FILE);
    Files.writeString(report, markdown().markdown());
    return report;
  }

  /** A short table for the console. */
  String summary() {
    return markdown().summary();
  }

  private MarkdownReport markdown() {
    return new MarkdownReport(setup, original, unpruned, runs, stats, MachineInfo.detect());
  }
}
