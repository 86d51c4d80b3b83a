package org.rankadaptor.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.hash.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.Optional;
import org.rankadaptor.Evaluation;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.Observation;
import org.rankadaptor.PairedComparison;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.SearchResult;
import org.rankadaptor.dl4j.HeldOutMeasurement;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.examples.report.HeatMap;
import org.rankadaptor.examples.report.LineChart;

/**
 * The experiment's report: a Markdown file with the main table (every method on every held-out task,
 * mean over recovery seeds), the search's course per setting, findings computed from the numbers, SVG
 * figures, and a JSON file with every number the tables show.
 */
final class ExperimentReport {

  static final String REPORT_FILE = "report.md";
  static final String JSON_FILE = "experiment.json";
  static final String FIGURES = "figures";

  /** Held-out task ids in table order, with their column titles. */
  private static final Map<String, String> TASKS = tasks();

  static final String TEST_PPL = "tinystories-test";

  /** Methods in table order, with their row names. */
  private static final Map<String, String> METHODS = methods();

  private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  /** A pruning setting of the experiment. */
  record PruningSetting(boolean isWidth, double share, int blocks, boolean acrossLayers) {

    private static final java.util.regex.Pattern FORM =
        java.util.regex.Pattern.compile("(width|width-global):(0?\\.\\d+)|(depth):(\\d+)");

    /**
     * Parses {@code width:SHARE}, {@code width-global:SHARE} (units ranked across the pruned layers, so
     * that layers lose unequal shares) or {@code depth:BLOCKS}.
     *
     * @return empty when the text has none of these forms
     */
    static java.util.Optional<PruningSetting> parse(String text) {
      java.util.regex.Matcher m = FORM.matcher(text.trim());
      if (!m.matches()) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(m.group(1) != null
          ? new PruningSetting(true, Double.parseDouble(m.group(2)), 0, m.group(1).equals("width-global"))
          : depth(Integer.parseInt(m.group(4))));
    }

    static PruningSetting width(double share) {
      return new PruningSetting(true, share, 0, false);
    }

    static PruningSetting depth(int blocks) {
      return new PruningSetting(false, 0, blocks, false);
    }

    /** A folder-safe name, such as {@code width-25}, {@code width-global-50} or {@code depth-1}. */
    String name() {
      return isWidth ? String.format(Locale.ROOT, "width-%s%02.0f", acrossLayers ? "global-" : "", 100 * share)
          : "depth-" + blocks;
    }

    /** How the table names it. */
    String label() {
      return isWidth ? String.format(Locale.ROOT, "Width %.0f %%%s", 100 * share, acrossLayers ? ", uneven" : "")
          : "Depth " + blocks + (blocks == 1 ? " block" : " blocks");
    }
  }

  /** How the experiment was run. */
  record Setup(
      TestModel model,
      String command,
      long seed,
      long[] heldOutSeeds,
      int zeroShotSeeds,
      int evaluations,
      int sourceConfigs,
      int metaIterations,
      double convergence,
      int steps,
      int evalItems,
      int generatedStories,
      RecoverySettings recovery,
      int recoveryExamples,
      String recoveryFingerprint,
      List<String> textParts,
      Map<String, Double> chance,
      Instant started,
      Instant finished,
      Map<String, Path> files) {}

  /**
   * The unpruned model of the test bed.
   *
   * @param name as {@code --model} names it
   * @param description what it is and where it comes from, for the report's setup
   * @param firstLayer the first layer pruning touches (0-based)
   * @param lastLayer the last such layer
   */
  record TestModel(String name, String description, int firstLayer, int lastLayer) {}

  /**
   * One setting's pruned model, space and everything its search measured; {@code compute} is the time
   * its stored measurements took when they were made (a resumed run reuses them).
   */
  record SettingRun(
      PruningSetting setting,
      LlamaConfig config,
      List<Integer> keptLayers,
      RankSpace space,
      String pruningReportJson,
      long parametersBefore,
      long parametersAfter,
      PrunedSearchResult result,
      Duration compute) {}

  /** Mean and sample standard deviation of a method's held-out values over recovery seeds. */
  record Stat(double mean, double sd, int n) {
    static Stat of(List<Double> values) {
      double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
      double ss = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
      return new Stat(mean, values.size() > 1 ? Math.sqrt(ss / (values.size() - 1)) : 0, values.size());
    }

    /** Standard error of the mean. */
    double se() {
      return n > 0 ? sd / Math.sqrt(n) : Double.NaN;
    }
  }

  private final Setup setup;
  private final LlamaConfig original;
  private final Map<String, Evaluation> unpruned;
  private final List<SettingRun> runs;

  ExperimentReport(Setup setup, LlamaConfig original, Map<String, Evaluation> unpruned, List<SettingRun> runs) {
    this.setup = Objects.requireNonNull(setup, "setup");
    this.original = Objects.requireNonNull(original, "original");
    // Insertion order, not Map.copyOf's per-JVM order: the JSON and the findings' sums come out the same every run.
    this.unpruned = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(unpruned));
    this.runs = List.copyOf(runs);
  }

  private static Map<String, String> tasks() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(TEST_PPL, "Test PPL ↓");
    m.put("boolq", "BoolQ");
    m.put("piqa", "PIQA");
    m.put("winogrande", "WinoG");
    m.put("arc_easy", "ARC-e");
    m.put("arc_challenge", "ARC-c");
    m.put("openbookqa", "OBQA");
    return m;
  }

  private static Map<String, String> methods() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("none", "No recovery");
    m.put("uniform", "LoRA, rank 8");
    m.put("lora*", "LoRA*");
    m.put(PrunedModelSearch.ADALORA, "AdaLoRA");
    m.put(PrunedModelSearch.RANDOM_SEARCH, "Random search");
    m.put(PrunedModelSearch.RANKADAPTOR_PAPER, "RankAdaptor, paper's protocol");
    m.put(PrunedModelSearch.RANKADAPTOR, "RankAdaptor");
    return m;
  }

  // ------------------------------------------------------------------ numbers

  /** A held-out value as the table shows it: perplexity for the text, accuracy for the zero-shot tasks. */
  private static double value(Observation o) {
    if (!o.succeeded()) {
      return Double.NaN;
    }
    Double ppl = o.metrics().get("ppl");
    return ppl != null ? ppl : o.score();
  }

  private static double value(Evaluation e) {
    Double ppl = e.metrics().get("ppl");
    return ppl != null ? ppl : e.score();
  }

  /** A method's held-out values on a task, one per recovery seed. */
  static Stat heldOut(PrunedSearchResult result, String method, String task) {
    List<Double> values = new ArrayList<>();
    for (HeldOutMeasurement m : result.heldOut()) {
      if (m.method().equals(method) && m.observation().taskId().equals(task)) {
        values.add(value(m.observation()));
      }
    }
    return Stat.of(values);
  }

  /** The mean over seeds of a method's average zero-shot accuracy. */
  private static Stat zeroShotAverage(PrunedSearchResult result, String method, long[] seeds) {
    List<Double> perSeed = new ArrayList<>();
    for (long seed : seeds) {
      double sum = 0;
      int count = 0;
      for (HeldOutMeasurement m : result.heldOut()) {
        if (m.method().equals(method) && m.recoverySeed() == seed && !m.observation().taskId().equals(TEST_PPL)) {
          sum += value(m.observation());
          count++;
        }
      }
      if (count > 0) {
        perSeed.add(sum / count);
      }
    }
    return Stat.of(perSeed);
  }

  /** Best measured score after each evaluation of a trace (failed evaluations keep the previous best). */
  static double[] bestSoFar(List<IterationRecord> trace) {
    double[] out = new double[trace.size()];
    double best = Double.NaN;
    for (int i = 0; i < out.length; i++) {
      Observation o = trace.get(i).observation();
      if (o.succeeded() && (Double.isNaN(best) || o.score() > best)) {
        best = o.score();
      }
      out[i] = best;
    }
    return out;
  }

  /** Validation perplexity from a score ({@code -log ppl}). */
  private static double ppl(double score) {
    return Math.exp(-score);
  }

  // ------------------------------------------------------------------ files

  /**
   * Writes the report, its figures and the JSON of its numbers into {@code dir}.
   *
   * @return the report file
   */
  Path write(Path dir) throws IOException {
    Path figures = Files.createDirectories(dir.resolve(FIGURES));
    Files.writeString(figures.resolve("ranks.svg"), ranksHeatMap().toSvg());
    for (SettingRun run : runs) {
      Files.writeString(figures.resolve(run.setting().name() + "-predicted.svg"), predictedChart(run).toSvg());
      Files.writeString(figures.resolve(run.setting().name() + "-fine-tunes.svg"), fineTunesChart(run).toSvg());
    }
    JSON.writeValue(dir.resolve(JSON_FILE).toFile(), json());
    Path report = dir.resolve(REPORT_FILE);
    Files.writeString(report, markdown());
    return report;
  }

  HeatMap ranksHeatMap() {
    List<String> rows = new ArrayList<>();
    List<String> columns = new ArrayList<>();
    for (int l = 0; l < original.nLayers(); l++) {
      columns.add(Integer.toString(l));
    }
    Double[][] values = new Double[runs.size()][original.nLayers()];
    for (int r = 0; r < runs.size(); r++) {
      SettingRun run = runs.get(r);
      rows.add(run.setting().label());
      RankConfig best = run.result().best();
      for (int i = 0; i < run.keptLayers().size(); i++) {
        values[r][run.keptLayers().get(i)] = (double) best.rank(i);
      }
    }
    return HeatMap.of("Ranks RankAdaptor chose per layer", "layer of the original model (0-based)", rows, columns,
        values, "removed");
  }

  LineChart predictedChart(SettingRun run) {
    List<IterationRecord> trace = run.result().search().trace();
    double[] x = new double[trace.size()];
    double[] predicted = new double[trace.size()];
    double[] sd = new double[trace.size()];
    double[] measured = new double[trace.size()];
    for (int i = 0; i < trace.size(); i++) {
      IterationRecord r = trace.get(i);
      x[i] = i + 1;
      predicted[i] = r.predicted();
      sd[i] = r.predictedStd();
      measured[i] = r.observation().succeeded() ? r.observation().score() : Double.NaN;
    }
    return LineChart.builder(run.setting().label() + ": predicted and measured, per evaluation",
            "target evaluation", "score = −log validation perplexity")
        .series("measured", x, measured)
        .seriesWithErrors("predicted ± sd", x, predicted, sd)
        .integerX()
        .build();
  }

  LineChart fineTunesChart(SettingRun run) {
    PrunedSearchResult result = run.result();
    LineChart.Builder chart = LineChart.builder(run.setting().label() + ": best so far against fine-tunes",
        "real fine-tunes on the target", "best validation perplexity (lower is better)").integerX();
    addBestSoFar(chart, "RankAdaptor", result.search().trace());
    result.randomSearch().ifPresent(r -> addBestSoFar(chart, "random search", r.trace()));
    Observation uniform = result.baselines().get("uniform");
    Observation loraStar = result.baselines().get("lora*");
    if (uniform != null && uniform.succeeded()) {
      chart.reference("LoRA, rank 8", ppl(uniform.score()));
    }
    if (loraStar != null && loraStar.succeeded()) {
      chart.reference("LoRA*", ppl(loraStar.score()));
    }
    return chart.build();
  }

  private static void addBestSoFar(LineChart.Builder chart, String name, List<IterationRecord> trace) {
    double[] best = bestSoFar(trace);
    double[] x = new double[best.length];
    double[] y = new double[best.length];
    for (int i = 0; i < best.length; i++) {
      x[i] = i + 1;
      y[i] = ppl(best[i]);
    }
    chart.series(name, x, y);
  }

  // ------------------------------------------------------------------ Markdown

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("# RankAdaptor on ").append(setup.model().name()).append(": the main table at small scale\n\n");
    md.append("Generated by `rankadaptor experiment`; every number below comes from the files next to this report.\n\n");
    md.append("## Findings\n\n");
    for (String finding : findings()) {
      md.append("- ").append(finding).append('\n');
    }
    md.append("\n## Main table\n\n");
    md.append(String.format(Locale.ROOT, "Held-out measurements. Test perplexity: mean ± standard deviation over "
        + "%d recovery seeds (%s). Accuracies in %%: zero-shot, %s items per task drawn by seed %d (the same items "
        + "for every method), %s. LoRA parameters: trainable weights of the configuration; every method is within "
        + "uniform rank 8's budget but AdaLoRA, which is held to uniform rank 8's count of singular triplets and "
        + "spends them where it finds them most important.%n%n", setup.heldOutSeeds().length, seedList(),
        setup.evalItems() == 0 ? "all" : Integer.toString(setup.evalItems()), setup.seed(),
        setup.zeroShotSeeds() == 1 ? "recovered with seed " + setup.heldOutSeeds()[0]
            : "mean over the first " + setup.zeroShotSeeds() + " recovery seeds"));
    md.append("| Setting | Method | Ranks | LoRA params |");
    TASKS.values().forEach(t -> md.append(' ').append(t).append(" |"));
    md.append(" Avg |\n|---|---|---|---:|");
    TASKS.keySet().forEach(t -> md.append("---:|"));
    md.append("---:|\n");
    md.append("| Unpruned | – | – | – |");
    double sum = 0;
    int count = 0;
    for (String task : TASKS.keySet()) {
      Evaluation e = unpruned.get(task);
      double v = e == null ? Double.NaN : value(e);
      md.append(' ').append(task.equals(TEST_PPL) ? fixed(v, 2) : percent(v)).append(" |");
      if (!task.equals(TEST_PPL) && e != null) {
        sum += v;
        count++;
      }
    }
    md.append(' ').append(percent(count > 0 ? sum / count : Double.NaN)).append(" |\n");
    md.append("| Chance | – | – | – | – |");
    for (String task : TASKS.keySet()) {
      if (!task.equals(TEST_PPL)) {
        md.append(' ').append(percent(setup.chance().getOrDefault(task, Double.NaN))).append(" |");
      }
    }
    md.append(' ').append(percent(setup.chance().values().stream().mapToDouble(Double::doubleValue).average()
        .orElse(Double.NaN))).append(" |\n");
    for (SettingRun run : runs) {
      for (Map.Entry<String, String> method : METHODS.entrySet()) {
        if (run.result().heldOut().stream().noneMatch(m -> m.method().equals(method.getKey()))) {
          continue;
        }
        String name = method.getKey().equals(PrunedModelSearch.RANKADAPTOR) ? "**" + method.getValue() + "**"
            : method.getValue();
        md.append("| ").append(run.setting().label()).append(" | ").append(name).append(" | ")
            .append(MethodAdapters.ranks(run, method.getKey())).append(" | ")
            .append(String.format(Locale.ROOT, "%,d", MethodAdapters.trainableParameters(run, method.getKey()))).append(" |");
        for (String task : TASKS.keySet()) {
          Stat s = heldOut(run.result(), method.getKey(), task);
          md.append(' ').append(task.equals(TEST_PPL) ? pplCell(s) : percent(s.mean())).append(" |");
        }
        md.append(' ').append(percent(zeroShotAverage(run.result(), method.getKey(), setup.heldOutSeeds()).mean()))
            .append(" |\n");
      }
    }
    md.append("\nThe ranks are per layer of the pruned model, first layer first. AdaLoRA starts every module at rank "
        + "12 and masks singular triplets down to an average of 8 per module during its one fine-tune, at the learning "
        + "rate (a multiple of LoRA's) that gave the best validation perplexity with the search's recovery seed (see "
        + "the searches' table): its row shows the "
        + "mean rank per layer it learned with the first held-out seed (each seed learns its own), and the P and Q "
        + "elements of the triplets it kept, averaged over the seeds. HellaSwag is not in the table: the shared data "
        + "holds no HellaSwag file with its contexts.\n");

    md.append("\n## The searches\n\n");
    md.append("Validation perplexity (the search's target) with recovery seed ").append(setup.seed())
        .append(" of the configuration each method chose. RankAdaptor's fine-tunes count every recovery of its "
        + "search (the anchor, exploration, replicates and the confirmation stage); its offline fine-tunes are the "
        + "source-task recoveries its meta-learning used. Random search had as many fine-tunes as RankAdaptor's "
        + "budget. The verdict compares RankAdaptor's choice with uniform rank 8 over the paired seeds of its "
        + "confirmation stage. Compute: the time every measurement of the setting took when it was made "
        + "(recoveries and evaluations, held-out ones included).\n\n");
    md.append("| Setting | Pruned parameters | RankAdaptor fine-tunes (target + offline) | Stopped | Verdict | "
        + "RankAdaptor | Paper's protocol (fine-tunes) | Random, same count | Random, full budget | LoRA, rank 8 | "
        + "LoRA* | AdaLoRA | No recovery | Compute |\n");
    md.append("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (SettingRun run : runs) {
      PrunedSearchResult r = run.result();
      int used = r.search().trace().size();
      SearchResult random = r.randomSearch().orElse(null);
      double randomSame = random == null ? Double.NaN : bestSoFar(random.trace())[Math.min(used, random.trace().size()) - 1];
      double randomAll = random == null ? Double.NaN : random.bestObservation().score();
      String paper = r.paperSearch().map(p -> fixed(ppl(p.bestObservation().score()), 3) + " (" + p.trace().size()
          + ")").orElse("–");
      md.append(String.format(Locale.ROOT, "| %s | %s | %d + %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
          run.setting().label(), parameters(run), used, setup.sourceConfigs(),
          r.search().stopReason().name().toLowerCase(Locale.ROOT).replace('_', ' '),
          r.search().verdict().map(v -> v.name().toLowerCase(Locale.ROOT).replace('_', ' ')).orElse("–"),
          fixed(ppl(r.search().bestObservation().score()), 3), paper, fixed(ppl(randomSame), 3),
          fixed(ppl(randomAll), 3), baselinePpl(r, "uniform"), baselinePpl(r, "lora*"),
          adaLoraPpl(r), baselinePpl(r, "none"),
          duration(run.compute())));
    }
    md.append("\nWhy each search stopped and what it recommended:\n\n");
    for (SettingRun run : runs) {
      SearchResult s = run.result().search();
      md.append("- ").append(run.setting().label()).append(": ").append(s.stopExplanation()).append(". ")
          .append(s.confirmation().map(c -> c.reason() + ".").orElse("")).append('\n');
    }

    md.append("\n## Figures\n\n");
    md.append("![Ranks per layer](figures/ranks.svg)\n\n");
    for (SettingRun run : runs) {
      md.append("### ").append(run.setting().label()).append("\n\n");
      md.append("![Predicted and measured](figures/").append(run.setting().name()).append("-predicted.svg) ");
      md.append("![Best so far against fine-tunes](figures/").append(run.setting().name()).append("-fine-tunes.svg)\n\n");
    }

    md.append("## Setup\n\n");
    appendSetup(md);
    return md.toString();
  }

  private void appendSetup(StringBuilder md) {
    RecoverySettings rec = setup.recovery();
    TestModel model = setup.model();
    md.append("- **Model**: ").append(model.description()).append(" (dim ").append(original.dim()).append(", ")
        .append(original.nLayers()).append(" layers of ").append(original.layer(0).nHeads()).append(" query and ")
        .append(original.layer(0).nKvHeads()).append(" key/value heads, vocabulary ").append(original.vocabSize())
        .append("), float32.\n");
    md.append("- **Width pruning**: LLM-Pruner's first-order Taylor importance (element-wise, summed per group) on "
        + "layers ").append(model.firstLayer()).append("..").append(model.lastLayer())
        .append(" (0-based); a setting's share is the share of those layers' projection weights removed (a global "
        + "ratio taken from those layers alone). Only the pruned layers' ranks are searched; the others keep rank 8.\n");
    md.append("- **Depth pruning**: Shortened LLaMA's Taylor+ block importance, blocks removed among layers ")
        .append(model.firstLayer()).append("..").append(model.lastLayer())
        .append("; every remaining layer's rank is searched.\n");
    md.append("- **Calibration**: ").append("10 windows of the recovery text (64 tokens for width, 128 for depth).\n");
    md.append(String.format(Locale.ROOT, "- **Text**: the TinyStories excerpt split at story boundaries into "
        + "recovery (%,d characters), validation, the search's target (%,d) and test, the report's held-out text "
        + "(%,d). Recovery data: the recovery part plus %d stories sampled from the unpruned model (temperature 1, "
        + "top-p 0.9; `data/generated-stories.txt`), cut into %d-token windows: %d examples, %d held out for the "
        + "recovery's own validation; fingerprint `%s`.%n",
        setup.textParts().get(0).length(), setup.textParts().get(1).length(), setup.textParts().get(2).length(),
        setup.generatedStories(), rec.cutoffLength(), setup.recoveryExamples(), 16, setup.recoveryFingerprint()));
    md.append(String.format(Locale.ROOT, "- **Recovery**: LoRA on %s, alpha = 2 x rank, AdamW, learning rate %s, "
        + "%d optimiser steps of batch %d (micro-batch %d), warm-up %d, %s decay, dropout %s; the adapters of the step "
        + "with the best validation loss are kept.%n", rec.targets(), rec.learningRate(), setup.steps(),
        rec.batchSize(), rec.microBatchSize(), rec.warmupSteps(), rec.decay().name().toLowerCase(Locale.ROOT),
        rec.dropout()));
    md.append(String.format(Locale.ROOT, "- **Budget**: every configuration is limited to the trainable parameters of "
        + "uniform rank 8 on the pruned model; candidates {2, 4, 6, 8, 10, 12}. LoRA*: ranks 4, 6, 10, 12 by quarters "
        + "of the searched layers.%n"));
    md.append(String.format(Locale.ROOT, "- **RankAdaptor**: MLP 32-32-32 ensemble of 5 (bootstrap samples), "
        + "meta-learned by Reptile (%d iterations) on %d configurations recovered once each and measured on "
        + "WikiText-2 and Alpaca text perplexity (the source tasks); then at most %d target fine-tunes with the "
        + "default protocol: uniform rank 8 first (the anchor), greedy choices among 100,000 candidates per "
        + "iteration, the anchor and the incumbent replicated with a second recovery seed to measure the noise, "
        + "exploration stopped when no candidate's optimistic prediction beats the incumbent by more than that "
        + "noise (twice in a row) or when only the confirmation's fine-tunes are left, and a confirmation stage "
        + "that measures the anchor and two finalists with two further seeds and picks by paired mean (with no "
        + "detectable difference, the configuration with fewer LoRA parameters). The paper's protocol: the same "
        + "model and budget, greedy, stopping when |predicted − measured| ≤ %s, the best single measurement. "
        + "Random search: distinct configurations drawn uniformly within the budget, same recovery seed, the best "
        + "single measurement.%n", setup.metaIterations(), setup.sourceConfigs(), setup.evaluations(),
        setup.convergence()));
    md.append("- **Seeds**: everything from seed ").append(setup.seed()).append("; held-out recoveries with seeds ")
        .append(seedList()).append(", none of them a seed any search chose with (the searches recover with ")
        .append(setup.seed()).append(" and, for replicates and confirmation, the next two).\n");
    md.append("- **Command**: `rankadaptor ").append(setup.command()).append("`\n");
    md.append("- **Inputs**:\n");
    for (Map.Entry<String, Path> f : setup.files().entrySet()) {
      md.append("  - ").append(f.getKey()).append(": `").append(f.getValue().getFileName()).append("` ")
          .append(fingerprint(f.getValue())).append('\n');
    }
    md.append(String.format(Locale.ROOT, "- **Machine**: %s, %d hardware threads, Java %s on %s %s; %s.%n",
        cpuModel(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        System.getProperty("os.name"), System.getProperty("os.arch"), Nd4jRuntime.report()));
    Duration compute = runs.stream().map(SettingRun::compute).reduce(Duration.ZERO, Duration::plus);
    md.append(String.format(Locale.ROOT, "- **Run**: this report was made from %s to %s (%s); the measurements in "
        + "it took %s when they were made (a resumed run takes the finished ones from the stores).%n",
        setup.started(), setup.finished(), duration(Duration.between(setup.started(), setup.finished())),
        duration(compute)));
  }

  // ------------------------------------------------------------------ findings

  /** Sentences computed from the numbers; the comparison a user needs, including where RankAdaptor lost. */
  List<String> findings() {
    List<String> out = new ArrayList<>();
    out.add(comparison("uniform", "LoRA with rank 8 everywhere"));
    out.add(comparison("lora*", "LoRA*"));
    if (runs.stream().anyMatch(r -> r.result().baselines().containsKey(PrunedModelSearch.ADALORA))) {
      out.add(comparison(PrunedModelSearch.ADALORA, "AdaLoRA"));
    }
    if (runs.stream().anyMatch(r -> r.result().randomSearch().isPresent())) {
      out.add(comparison(PrunedModelSearch.RANDOM_SEARCH, "random search's choice"));
    }
    if (runs.stream().anyMatch(r -> r.result().paperSearch().isPresent())) {
      out.add(comparison(PrunedModelSearch.RANKADAPTOR_PAPER, "the paper's protocol's choice"));
    }
    out.add(searchFinding());
    out.add(zeroShotFinding());
    return out;
  }

  /**
   * RankAdaptor's held-out test perplexity against another method's, paired by recovery seed: per setting
   * the mean difference and its 95 % Student-t interval, and how many settings it is better, worse or not
   * distinguishable in.
   */
  private String comparison(String other, String otherName) {
    int better = 0;
    int worse = 0;
    int same = 0;
    List<String> details = new ArrayList<>();
    for (SettingRun run : runs) {
      Optional<PairedComparison> c = pairedTestPerplexity(run.result(), PrunedModelSearch.RANKADAPTOR, other);
      if (c.isEmpty()) {
        continue;
      }
      PairedComparison p = c.get();
      // Perplexity: lower is better, so an interval below zero means RankAdaptor is better.
      if (p.upper() < 0) {
        better++;
      } else if (p.lower() > 0) {
        worse++;
      } else {
        same++;
      }
      details.add(String.format(Locale.ROOT, "%s %+.3f [%+.3f, %+.3f]", run.setting().label().toLowerCase(Locale.ROOT),
          p.meanDifference(), p.lower(), p.upper()));
    }
    return String.format(Locale.ROOT, "Against %s, paired by recovery seed on held-out test perplexity, RankAdaptor's "
        + "ranks were better in %d of %d settings, worse in %d, and not distinguishable in %d (95 %% interval of the "
        + "mean difference containing 0). Differences in perplexity, RankAdaptor minus %s, with 95 %% intervals: %s.",
        otherName, better, runs.size(), worse, same,
        other.equals("uniform") ? "rank 8" : other.equals("lora*") ? "LoRA*" : other.equals(PrunedModelSearch.ADALORA)
            ? "AdaLoRA" : other.equals(PrunedModelSearch.RANDOM_SEARCH) ? "random search" : "the paper's protocol",
        String.join(", ", details));
  }

  /** Test perplexity of {@code method} minus {@code other}'s, over the seeds both were measured with. */
  static Optional<PairedComparison> pairedTestPerplexity(PrunedSearchResult result, String method, String other) {
    Map<Long, Double> a = new TreeMap<>();
    Map<Long, Double> b = new TreeMap<>();
    for (HeldOutMeasurement m : result.heldOut()) {
      if (m.observation().taskId().equals(TEST_PPL) && m.observation().succeeded()) {
        if (m.method().equals(method)) {
          a.put(m.recoverySeed(), value(m.observation()));
        } else if (m.method().equals(other)) {
          b.put(m.recoverySeed(), value(m.observation()));
        }
      }
    }
    List<Long> seeds = a.keySet().stream().filter(b::containsKey).toList();
    if (seeds.size() < 2 || method.equals(other)) {
      return Optional.empty();
    }
    double[] d = seeds.stream().mapToDouble(k -> a.get(k) - b.get(k)).toArray();
    RankConfig config = result.heldOut().stream().filter(m -> m.method().equals(method)).findFirst().orElseThrow()
        .config();
    RankConfig baseline = result.heldOut().stream().filter(m -> m.method().equals(other)).findFirst().orElseThrow()
        .config();
    return Optional.of(PairedComparison.of(config, baseline, seeds, d, 0.95));
  }

  private String searchFinding() {
    int converged = 0;
    int fineTunes = 0;
    int better = 0;
    int same = 0;
    int paperConverged = 0;
    int paperFineTunes = 0;
    int papers = 0;
    for (SettingRun run : runs) {
      SearchResult s = run.result().search();
      fineTunes += s.trace().size();
      converged += s.stopReason().name().equals("CONVERGED") ? 1 : 0;
      better += s.verdict().filter(v -> v.name().equals("BETTER")).isPresent() ? 1 : 0;
      same += s.verdict().filter(v -> v.name().equals("NO_DETECTABLE_DIFFERENCE")).isPresent() ? 1 : 0;
      if (run.result().paperSearch().isPresent()) {
        SearchResult p = run.result().paperSearch().get();
        papers++;
        paperFineTunes += p.trace().size();
        paperConverged += p.stopReason().name().equals("CONVERGED") ? 1 : 0;
      }
    }
    String paper = papers == 0 ? "" : String.format(Locale.ROOT, " The paper's protocol stopped by its convergence "
        + "rule in %d of %d settings after %.1f fine-tunes on average.", paperConverged, papers,
        (double) paperFineTunes / papers);
    return String.format(Locale.ROOT, "RankAdaptor's default protocol stopped by its stopping rule in %d of %d "
        + "settings and used %.1f target fine-tunes on average (budget %d, replicates included), plus %d offline "
        + "source fine-tunes per setting. Its verdict against uniform rank 8 on the validation text: better in %d, "
        + "no detectable difference in %d.%s", converged, runs.size(),
        runs.isEmpty() ? 0.0 : (double) fineTunes / runs.size(), setup.evaluations(), setup.sourceConfigs(), better,
        same, paper);
  }

  private static double median(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private String zeroShotFinding() {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (SettingRun run : runs) {
      for (String method : METHODS.keySet()) {
        Stat avg = zeroShotAverage(run.result(), method, setup.heldOutSeeds());
        if (avg.n() > 0) {
          lo = Math.min(lo, avg.mean());
          hi = Math.max(hi, avg.mean());
        }
      }
    }
    double chance = setup.chance().values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    double unprunedAvg = unpruned.entrySet().stream().filter(e -> !e.getKey().equals(TEST_PPL))
        .mapToDouble(e -> value(e.getValue())).average().orElse(Double.NaN);
    // Within two points of chance on average, a model cannot be told apart from guessing on these tasks.
    boolean atChance = Math.abs(unprunedAvg - chance) < 0.02;
    return String.format(Locale.ROOT, "Zero-shot: averages over the six tasks range from %s to %s across settings "
        + "and methods, against %s for the unpruned model and %s for chance: %s", percent(lo), percent(hi),
        percent(unprunedAvg), percent(chance), atChance
            ? setup.model().name() + ", trained on children's stories, is at chance on these tasks, so they cannot "
                + "separate the methods here."
            : "the unpruned model is " + percent(Math.abs(unprunedAvg - chance)) + " points" + (unprunedAvg > chance
                ? " above" : " below") + " chance; differences between methods smaller than the items' sampling error are "
                + "not findings.");
  }

  // ------------------------------------------------------------------ JSON and console

  private ObjectNode json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", setup.model().name());
    root.put("command", setup.command());
    root.put("seed", setup.seed());
    ArrayNode seeds = root.putArray("heldOutSeeds");
    for (long s : setup.heldOutSeeds()) {
      seeds.add(s);
    }
    root.put("started", setup.started().toString());
    root.put("finished", setup.finished().toString());
    root.put("recoveryFingerprint", setup.recoveryFingerprint());
    ObjectNode base = root.putObject("unpruned");
    unpruned.forEach((task, e) -> base.put(task, value(e)));
    root.set("chance", JSON.valueToTree(setup.chance()));
    ArrayNode settings = root.putArray("settings");
    for (SettingRun run : runs) {
      ObjectNode s = settings.addObject();
      s.put("name", run.setting().name());
      s.put("label", run.setting().label());
      s.put("space", run.space().describe());
      s.put("parameters", parameters(run));
      s.put("best", run.result().best().format());
      s.put("stopReason", run.result().search().stopReason().name());
      s.put("targetFineTunes", run.result().search().trace().size());
      s.put("computeSeconds", run.compute().toMillis() / 1000.0);
      ObjectNode methods = s.putObject("methods");
      for (String method : METHODS.keySet()) {
        if (run.result().heldOut().stream().noneMatch(m -> m.method().equals(method))) {
          continue;
        }
        ObjectNode m = methods.putObject(method);
        m.put("ranks", MethodAdapters.ranks(run, method));
        m.put("trainableParameters", MethodAdapters.trainableParameters(run, method));
        ObjectNode tasks = m.putObject("heldOut");
        for (String task : TASKS.keySet()) {
          Stat st = heldOut(run.result(), method, task);
          ObjectNode t = tasks.putObject(task);
          t.put("mean", st.mean());
          t.put("sd", st.sd());
          t.put("n", st.n());
        }
      }
    }
    return root;
  }

  /** A short table for the console. */
  String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%n%-14s %-14s %-18s %16s %10s%n", "setting", "method", "ranks",
        "test ppl", "zero-shot"));
    for (SettingRun run : runs) {
      for (Map.Entry<String, String> method : METHODS.entrySet()) {
        if (run.result().heldOut().stream().noneMatch(m -> m.method().equals(method.getKey()))) {
          continue;
        }
        sb.append(String.format(Locale.ROOT, "%-14s %-14s %-18s %16s %10s%n", run.setting().label(),
            method.getValue(), MethodAdapters.ranks(run, method.getKey()),
            pplCell(heldOut(run.result(), method.getKey(), TEST_PPL)),
            percent(zeroShotAverage(run.result(), method.getKey(), setup.heldOutSeeds()).mean())));
      }
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ formatting

  private String seedList() {
    StringBuilder sb = new StringBuilder();
    for (long s : setup.heldOutSeeds()) {
      sb.append(sb.length() > 0 ? ", " : "").append(s);
    }
    return sb.toString();
  }

  /** AdaLoRA's validation perplexity with the learning rate it was chosen at. */
  private static String adaLoraPpl(PrunedSearchResult r) {
    Observation o = r.baselines().get(PrunedModelSearch.ADALORA);
    String lr = o == null ? null : o.provenance().settings().get("lr");
    return baselinePpl(r, PrunedModelSearch.ADALORA) + (lr == null ? "" : " (lr " + lr + ")");
  }

  private static String baselinePpl(PrunedSearchResult r, String name) {
    Observation o = r.baselines().get(name);
    return o == null || !o.succeeded() ? "–" : fixed(ppl(o.score()), 3);
  }

  private static String parameters(SettingRun run) {
    long before = run.parametersBefore();
    long after = run.parametersAfter();
    return String.format(Locale.ROOT, "%,d (−%.1f %%)", after, 100.0 * (before - after) / before);
  }

  private static String pplCell(Stat s) {
    if (s.n() == 0) {
      return "–";
    }
    return s.n() > 1 ? String.format(Locale.ROOT, "%.2f ± %.2f", s.mean(), s.sd()) : fixed(s.mean(), 2);
  }

  private static String percent(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", 100 * v) : "–";
  }

  private static String fixed(double v, int decimals) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "–";
  }

  private static String duration(Duration d) {
    long s = d.toSeconds();
    return s >= 60 ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60) : s + " s";
  }

  private static String fingerprint(Path file) {
    try {
      if (Files.isDirectory(file)) {
        return "(folder)";
      }
      return "sha256 `" + com.google.common.io.Files.asByteSource(file.toFile()).hash(Hashing.sha256())
          .toString().substring(0, 16) + "…`";
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: the architecture below still says something.
    }
    return System.getProperty("os.arch");
  }
}
