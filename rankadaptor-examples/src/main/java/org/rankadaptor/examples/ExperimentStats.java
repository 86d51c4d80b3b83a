package org.rankadaptor.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.rankadaptor.Evaluation;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.Observation;
import org.rankadaptor.PairedComparison;
import org.rankadaptor.RankConfig;
import org.rankadaptor.SearchResult;
import org.rankadaptor.dl4j.HeldOutMeasurement;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.PrunedSearchResult;

/**
 * The experiment's numbers: held-out means and deviations over recovery seeds, paired differences with
 * their intervals, and the findings as data. Nothing here formats text; {@link MarkdownReport} and
 * {@link ExperimentJson} show these numbers, the way Tribuo keeps {@code DescriptiveStats} apart from its
 * {@code EvaluationRenderer}.
 */
final class ExperimentStats {

  /** The held-out text's task id: its value is a perplexity, every other task's an accuracy. */
  static final String TEST_PPL = "tinystories-test";

  /** Held-out task ids in table order. */
  static final List<String> TASKS =
      List.of(TEST_PPL, "boolq", "piqa", "winogrande", "arc_easy", "arc_challenge", "openbookqa");

  /** Methods in table order. */
  static final List<String> METHODS = List.of("none", "uniform", "lora*", PrunedModelSearch.ADALORA,
      PrunedModelSearch.RANDOM_SEARCH, PrunedModelSearch.RANKADAPTOR_PAPER, PrunedModelSearch.RANKADAPTOR);

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

  /**
   * One setting's paired difference in held-out test perplexity, RankAdaptor minus another method.
   *
   * @param setting the setting
   * @param difference the paired comparison over the recovery seeds both were measured with
   */
  record SettingDifference(PruningSetting setting, PairedComparison difference) {}

  /**
   * RankAdaptor against another method over the settings: in how many its test perplexity was better, worse
   * or not distinguishable (the 95 % interval of the paired mean difference containing 0).
   *
   * @param other the other method's id
   * @param settings settings of the experiment
   * @param better settings where RankAdaptor's perplexity was lower
   * @param worse settings where it was higher
   * @param same settings with no distinguishable difference
   * @param differences each compared setting's difference, in setting order
   */
  record Comparison(String other, int settings, int better, int worse, int same, List<SettingDifference> differences) {}

  /**
   * How the searches went, over the settings.
   *
   * @param settings settings of the experiment
   * @param converged settings whose default protocol stopped by its stopping rule
   * @param meanFineTunes target fine-tunes per setting, on average (replicates included)
   * @param better settings whose verdict against uniform rank 8 was "better"
   * @param same settings whose verdict was "no detectable difference"
   * @param paperSettings settings where the paper's protocol ran
   * @param paperConverged of those, settings where it stopped by its convergence rule
   * @param paperMeanFineTunes its fine-tunes per setting, on average
   */
  record SearchSummary(int settings, int converged, double meanFineTunes, int better, int same, int paperSettings,
      int paperConverged, double paperMeanFineTunes) {}

  /**
   * The zero-shot averages against the unpruned model and chance.
   *
   * @param lowest the lowest average over the six tasks of any setting and method
   * @param highest the highest
   * @param unpruned the unpruned model's average
   * @param chance chance's average
   * @param atChance whether the unpruned model is within two points of chance, so that these tasks cannot
   *     separate the methods
   */
  record ZeroShotRange(double lowest, double highest, double unpruned, double chance, boolean atChance) {}

  /**
   * What the report's findings say, as numbers.
   *
   * @param comparisons RankAdaptor against each other method it was compared with, in table order
   * @param search how the searches went
   * @param zeroShot the zero-shot averages
   */
  record Findings(List<Comparison> comparisons, SearchSummary search, ZeroShotRange zeroShot) {}

  private final ExperimentSetup setup;
  private final Map<String, Evaluation> unpruned;
  private final List<SettingRun> runs;

  ExperimentStats(ExperimentSetup setup, Map<String, Evaluation> unpruned, List<SettingRun> runs) {
    this.setup = Objects.requireNonNull(setup, "setup");
    this.unpruned = unpruned;
    this.runs = runs;
  }

  // ------------------------------------------------------------------ per measurement

  /** A held-out value as the table shows it: perplexity for the text, accuracy for the zero-shot tasks. */
  static double value(Observation o) {
    if (!o.succeeded()) {
      return Double.NaN;
    }
    Double ppl = o.metrics().get("ppl");
    return ppl != null ? ppl : o.score();
  }

  static double value(Evaluation e) {
    Double ppl = e.metrics().get("ppl");
    return ppl != null ? ppl : e.score();
  }

  /** Validation perplexity from a score ({@code -log ppl}). */
  static double ppl(double score) {
    return Math.exp(-score);
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
  static Stat zeroShotAverage(PrunedSearchResult result, String method, long[] seeds) {
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

  /** Whether a setting's held-out measurements include a method. */
  static boolean measured(SettingRun run, String method) {
    return run.result().heldOut().stream().anyMatch(m -> m.method().equals(method));
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

  // ------------------------------------------------------------------ over the experiment

  /** The unpruned model's average zero-shot accuracy over the tasks of the table, in table order. */
  double unprunedTableAverage() {
    double sum = 0;
    int count = 0;
    for (String task : TASKS) {
      Evaluation e = unpruned.get(task);
      if (!task.equals(TEST_PPL) && e != null) {
        sum += value(e);
        count++;
      }
    }
    return count > 0 ? sum / count : Double.NaN;
  }

  /** Chance's average accuracy over the zero-shot tasks. */
  double chanceAverage() {
    return setup.chance().values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  /** Computed from the numbers: the comparisons a user needs, including where RankAdaptor lost. */
  Findings findings() {
    List<Comparison> comparisons = new ArrayList<>();
    comparisons.add(comparison("uniform"));
    comparisons.add(comparison("lora*"));
    if (runs.stream().anyMatch(r -> r.result().baselines().containsKey(PrunedModelSearch.ADALORA))) {
      comparisons.add(comparison(PrunedModelSearch.ADALORA));
    }
    if (runs.stream().anyMatch(r -> r.result().randomSearch().isPresent())) {
      comparisons.add(comparison(PrunedModelSearch.RANDOM_SEARCH));
    }
    if (runs.stream().anyMatch(r -> r.result().paperSearch().isPresent())) {
      comparisons.add(comparison(PrunedModelSearch.RANKADAPTOR_PAPER));
    }
    return new Findings(comparisons, searchSummary(), zeroShotRange());
  }

  /**
   * RankAdaptor's held-out test perplexity against another method's, paired by recovery seed: per setting
   * the mean difference and its 95 % Student-t interval, and how many settings it is better, worse or not
   * distinguishable in.
   */
  private Comparison comparison(String other) {
    int better = 0;
    int worse = 0;
    int same = 0;
    List<SettingDifference> differences = new ArrayList<>();
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
      differences.add(new SettingDifference(run.setting(), p));
    }
    return new Comparison(other, runs.size(), better, worse, same, List.copyOf(differences));
  }

  private SearchSummary searchSummary() {
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
    return new SearchSummary(runs.size(), converged, runs.isEmpty() ? 0.0 : (double) fineTunes / runs.size(), better,
        same, papers, paperConverged, papers == 0 ? Double.NaN : (double) paperFineTunes / papers);
  }

  private ZeroShotRange zeroShotRange() {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (SettingRun run : runs) {
      for (String method : METHODS) {
        Stat avg = zeroShotAverage(run.result(), method, setup.heldOutSeeds());
        if (avg.n() > 0) {
          lo = Math.min(lo, avg.mean());
          hi = Math.max(hi, avg.mean());
        }
      }
    }
    double chance = chanceAverage();
    double unprunedAvg = unpruned.entrySet().stream().filter(e -> !e.getKey().equals(TEST_PPL))
        .mapToDouble(e -> value(e.getValue())).average().orElse(Double.NaN);
    // Within two points of chance on average, a model cannot be told apart from guessing on these tasks.
    boolean atChance = Math.abs(unprunedAvg - chance) < 0.02;
    return new ZeroShotRange(lo, hi, unprunedAvg, chance, atChance);
  }
}
