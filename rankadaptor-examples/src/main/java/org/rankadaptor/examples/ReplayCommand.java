package org.rankadaptor.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.replay.IntervalCoverage;
import org.rankadaptor.replay.RecoveryTable;
import org.rankadaptor.replay.TableReplay;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Search strategies replayed on a table of real recoveries (made by {@code rankadaptor table}): each runs
 * many times with different search seeds, and what it returns is judged by the table's seed-averaged
 * score. Prints a Markdown report and writes it, with the numbers as JSON, to the output folder.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Replays search strategies on a table of real recoveries (rankadaptor table) over many search seeds and",
        "judges what each returns by the table's seed-averaged scores: mean regret, how often in the top 5 %%, and",
        "how often a verdict of 'better than uniform rank 8' is false. Writes report.md and replay.json."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file could not be read or written (the message says which)", "2:invalid arguments"})
final class ReplayCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Output output = new SharedOptions.Output();

  @Option(names = "--table", defaultValue = "docs/recovery-table", paramLabel = "DIR",
      description = "Folder with table.jsonl and provenance.json (default: ${DEFAULT-VALUE}).")
  Path tableDir;

  @Option(names = "--searches", defaultValue = "30", description = "Search seeds per strategy (default: ${DEFAULT-VALUE}).")
  int searches;

  @Option(names = "--budget", defaultValue = "12", description = "Fine-tunes per search (default: ${DEFAULT-VALUE}).")
  int budget;

  @Option(names = "--batch-sizes", split = ",", paramLabel = "Q,...",
      description = "Also replay the default protocol choosing Q configurations at once, for each Q (the first is the "
          + "baseline, usually 1), with the MLP and the Bayesian ridge model at each of --batch-budgets (default: none).")
  List<Integer> batchSizes = new ArrayList<>();

  @Option(names = "--batch-budgets", split = ",", defaultValue = "6,12,18,24", paramLabel = "N,...",
      description = "Budgets of fine-tunes for --batch-sizes (default: ${DEFAULT-VALUE}).")
  List<Integer> batchBudgets;

  @Option(names = "--unbudgeted", description = "Search all configurations, not only those within uniform rank 8's "
      + "trainable parameters.")
  boolean unbudgeted;

  @Override
  public Integer call() {
    if (searches < 1 || budget < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--searches and --budget must be at least 1");
    }
    if (batchSizes.stream().anyMatch(q -> q < 1) || batchBudgets.stream().anyMatch(b -> b < 1)
        || batchSizes.stream().distinct().count() != batchSizes.size()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--batch-sizes must be distinct and at least 1, --batch-budgets at least 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      RecoveryTable table = RecoveryTable.read(tableDir.resolve("table.jsonl"));
      JsonNode provenance = new ObjectMapper().readTree(tableDir.resolve("provenance.json").toFile());
      RankSpace space = space(provenance, unbudgeted);
      String task = provenance.get("validationTask").asText();
      TableReplay replay = new TableReplay(table, space, task);
      List<ReplayStrategies.Summary> summaries = new ArrayList<>();
      for (ReplayStrategies.Strategy strategy : ReplayStrategies.all(table, replay)) {
        StoriesTestBed.status(err, "replaying " + strategy.name() + " over " + searches + " search seeds");
        summaries.add(ReplayStrategies.run(strategy, replay, searches, budget));
      }
      // The MLP's predicted intervals on configurations it has not seen, over the whole table.
      RankSpace all = space(provenance, true);
      IntervalCoverage coverage = IntervalCoverage.measure(new TableReplay(table, all, task),
          draw -> new MlpPerformanceModel(all, MlpConfig.paper().withSeed(draw)), 40, 5, 0.8);
      List<ReplayStrategies.BatchCost> batches = List.of();
      if (!batchSizes.isEmpty()) {
        StoriesTestBed.status(err, "replaying batches of " + batchSizes + " at budgets " + batchBudgets);
        batches = ReplayStrategies.batchCosts(replay, batchSizes, batchBudgets, searches);
      }
      String report = ReplayReport.markdown(replay, table, provenance, summaries, coverage, searches, budget,
          "rankadaptor " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
      String batchSection = ReplayReport.batchMarkdown(batches, searches);
      if (!batchSection.isEmpty()) {
        int commandLine = report.lastIndexOf("Command: `");
        report = report.substring(0, commandLine) + batchSection.substring(1) + "\n" + report.substring(commandLine);
      }
      Files.createDirectories(output.outputDir);
      Files.writeString(output.outputDir.resolve("report.md"), report);
      new ObjectMapper().writerWithDefaultPrettyPrinter()
          .writeValue(output.outputDir.resolve("replay.json").toFile(), ReplayReport.json(replay, summaries, batches));
      out.print(report);
      out.flush();
      return 0;
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  /** The table's space: its layers, searched layers and candidates, within uniform rank 8's budget unless asked. */
  static RankSpace space(JsonNode provenance, boolean unbudgeted) {
    long[] perRank = perRank(provenance);
    // Tables written before the searched layers were recorded are of stories260K's layers 1..3.
    JsonNode searched = provenance.path("searchedLayers");
    int first = searched.isArray() && searched.size() == 2 ? searched.get(0).asInt() : 1;
    int last = searched.isArray() && searched.size() == 2 ? searched.get(1).asInt() : 3;
    RankSpace.Builder b = RankSpace.builder(perRank.length).searchLayers(first, last);
    if (!unbudgeted) {
      long uniform = new ParameterBudget(perRank, Long.MAX_VALUE)
          .trainableParameters(RankConfig.uniform(perRank.length, RankSpace.DEFAULT_PINNED_RANK));
      b.budget(new ParameterBudget(perRank, uniform));
    }
    return b.build();
  }

  /** The trainable parameters one unit of rank costs in each layer, from a table's provenance.json. */
  static long[] perRank(JsonNode provenance) {
    JsonNode node = provenance.get("parametersPerRank");
    if (node == null || !node.isArray()) {
      throw new IllegalArgumentException("the table's provenance.json has no parametersPerRank");
    }
    long[] perRank = new long[node.size()];
    for (int i = 0; i < perRank.length; i++) {
      perRank[i] = node.get(i).asLong();
    }
    return perRank;
  }
}
