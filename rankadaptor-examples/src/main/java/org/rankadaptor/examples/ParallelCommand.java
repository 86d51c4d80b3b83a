package org.rankadaptor.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankSpace;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.spark.FineTuneSetup;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The wall time of one search on the stories260K test bed with one fine-tune at a time and with two at
 * once (threads, and Spark on a local master), repeated and interleaved, every recovery on one thread.
 * Writes report.md and parallel.json.
 */
@Command(
    name = "parallel",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Times the same search (stories260K test bed, default protocol, Bayesian ridge model) with one fine-tune at a",
        "time and with batches of two run on threads and on a local Spark master, every recovery on one thread,",
        "repeated and interleaved. Writes report.md and parallel.json. Needs Spark on the classpath (-Pspark with",
        "exec:java, and the JVM options in spark-java17.options)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file, a search or Spark failed (the message says which)", "2:invalid arguments"})
final class ParallelCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Data dataOption = new SharedOptions.Data();
  @CommandLine.Mixin SharedOptions.Output output = new SharedOptions.Output();
  @CommandLine.Mixin SharedOptions.Seed seedOption = new SharedOptions.Seed();

  @CommandLine.Mixin SharedOptions.TestBedSetting pruned = new SharedOptions.TestBedSetting();

  @Option(names = "--evaluations", defaultValue = CommandDefaults.PARALLEL_EVALUATIONS,
      description = "Fine-tunes per search (default: ${DEFAULT-VALUE}).")
  int evaluations;

  @Option(names = "--repeats", defaultValue = "3",
      description = "Timed searches per way, after one untimed warm-up each (default: ${DEFAULT-VALUE}).")
  int repeats;

  /** One way of running the search's fine-tunes. */
  record Way(String name, int batchSize, String executor) {}

  /**
   * How one way did.
   *
   * @param way the way
   * @param seconds wall time of each timed search
   * @param fineTunes fine-tunes per search
   * @param batches batches per search (rounds that ran one after another)
   * @param trace the first search's choices and scores, to compare ways
   */
  record Timing(Way way, List<Double> seconds, int fineTunes, int batches, List<String> trace) {
    double median() {
      List<Double> sorted = seconds.stream().sorted().toList();
      int n = sorted.size();
      return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
  }

  @Override
  public Integer call() {
    if (pruned.steps < 1 || evaluations < 1 || repeats < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--steps, --evaluations and --repeats must be at least 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // Before ND4J starts: one thread per recovery, so that two at once use the two cores and one uses one.
    System.setProperty(Nd4jRuntime.THREADS_PROPERTY, System.getProperty(Nd4jRuntime.THREADS_PROPERTY, "1"));
    try {
      Files.createDirectories(output.outputDir);
      StoriesSetup setup = new StoriesSetup(dataOption.data.toAbsolutePath().toString(),
          output.outputDir.toAbsolutePath().toString(),
          pruned.setting, pruned.steps, 0, seedOption.seed);
      StoriesSetup.Prepared prepared = setup.prepare(err);
      FineTuneSetup.Built<RecoveredModel> here = prepared.built(new PrintWriter(java.io.Writer.nullWriter()));
      RankSpace space = prepared.pruned().withUniformBudget(prepared.bed().recovery);
      List<Way> ways = List.of(new Way("one at a time", 1, "sequential"), new Way("threads", 2, "threads(2)"),
          new Way("Spark, local[2]", 2, "spark"));
      Map<Way, List<Double>> seconds = new LinkedHashMap<>();
      Map<Way, SearchResult> first = new LinkedHashMap<>();
      ways.forEach(w -> seconds.put(w, new ArrayList<>()));
      try (EvaluationExecutor threads = EvaluationExecutor.threads(2);
          EvaluationExecutor spark = SparkRun.executor("local[2]", setup, 2)) {
        for (int round = 0; round <= repeats; round++) {
          for (Way way : ways) {
            EvaluationExecutor executor = switch (way.executor()) {
              case "threads(2)" -> threads;
              case "spark" -> spark;
              default -> EvaluationExecutor.sequential();
            };
            StoriesTestBed.status(err, (round == 0 ? "warm-up" : "round " + round) + ": " + way.name());
            SearchSpec<RecoveredModel> search = SearchSpec.builder(new BayesianRidgeModel(space), here.runner(),
                here.evaluator()).seed(seedOption.seed).maxEvaluations(evaluations).metaLearning(false)
                .batchSize(way.batchSize()).executor(executor).store(ObservationStore.inMemory()).build();
            long start = System.nanoTime();
            SearchResult result = RankAdaptor.search(search);
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (round == 0) {
              first.put(way, result);
            } else {
              seconds.get(way).add(elapsed);
            }
          }
        }
      }
      List<Timing> timings = new ArrayList<>();
      for (Way way : ways) {
        SearchResult r = first.get(way);
        timings.add(new Timing(way, seconds.get(way), r.fineTunes(),
            (int) r.trace().stream().mapToInt(IterationRecord::batch).distinct().count(), trace(r)));
      }
      String command = "rankadaptor " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
      String report = markdown(timings, space, command);
      Files.writeString(output.outputDir.resolve("report.md"), report);
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(output.outputDir.resolve("parallel.json").toFile(), json(timings, command));
      out.print(report);
      out.flush();
      return 0;
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  private static List<String> trace(SearchResult result) {
    return result.trace().stream().map(r -> r.batch() + ":" + r.config().format() + "/" + r.seed() + "="
        + r.observation().score()).toList();
  }

  /** The table: medians, ratios to one at a time, and the ideal speed-up of each way's batches. */
  static String markdown(List<Timing> timings, RankSpace space, String command) {
    Timing one = timings.get(0);
    StringBuilder sb = new StringBuilder("# One search, one fine-tune at a time and two at once\n\n");
    sb.append(String.format(Locale.ROOT, "The same search (seed, default protocol, Bayesian ridge model, no "
        + "meta-learning, %d fine-tunes) on the stories260K test bed, space %s; each way timed %d times after an untimed "
        + "warm-up, the ways interleaved; every recovery on one thread (%s=1), %d cores.%n%n",
        one.fineTunes(), space.describe(), one.seconds().size(), Nd4jRuntime.THREADS_PROPERTY,
        Runtime.getRuntime().availableProcessors()));
    sb.append("| way | batch size | fine-tunes | batches | wall time, median [min, max] | speed-up | ideal |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    for (Timing t : timings) {
      double min = t.seconds().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
      double max = t.seconds().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
      sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %.1f s [%.1f, %.1f] | %.2fx | %.2fx |%n",
          t.way().name(), t.way().batchSize(), t.fineTunes(), t.batches(), t.median(), min, max,
          one.median() / t.median(), one.fineTunes() / (double) t.batches()));
    }
    sb.append("\nSpeed-up: the median wall time of one at a time over the way's. Ideal: one at a time's fine-tunes over "
        + "the way's batches, the speed-up if every fine-tune took as long and the batches ran perfectly in parallel "
        + "(the anchor, the first exploration and the ends of the stages run alone).\n\n");
    boolean same = timings.get(1).trace().equals(timings.get(2).trace());
    sb.append(same ? "Threads and Spark ran the same fine-tunes in the same batches with the same scores.\n"
        : "Threads and Spark ran different traces: a defect.\n");
    sb.append("\nCommand: `").append(command).append("`\n");
    return sb.toString();
  }

  private static Map<String, Object> json(List<Timing> timings, String command) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("command", command);
    out.put("cores", Runtime.getRuntime().availableProcessors());
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Timing t : timings) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("way", t.way().name());
      row.put("batchSize", t.way().batchSize());
      row.put("fineTunes", t.fineTunes());
      row.put("batches", t.batches());
      row.put("seconds", t.seconds());
      row.put("medianSeconds", t.median());
      rows.add(row);
    }
    out.put("ways", rows);
    return out;
  }
}
