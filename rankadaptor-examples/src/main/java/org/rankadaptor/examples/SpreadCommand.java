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
import org.rankadaptor.replay.AllocationSpread;
import org.rankadaptor.replay.RecoveryTable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Whether rank allocation matters on a table of recoveries (made by {@code rankadaptor table}, usually with
 * {@code --sample}): the spread of the configurations' seed-averaged scores against the paired seed noise,
 * on the validation and the test text. Writes a Markdown report with a figure and the numbers as JSON.
 */
@Command(
    name = "spread",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Does rank allocation matter? Compares the spread of a table's seed-averaged scores (rankadaptor table)",
        "with the paired seed noise: an F test, the seeds' agreement on the ranking, each configuration against",
        "uniform rank 8. Writes report.md, spread.json and figures/spread-*.svg."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file could not be read or written (the message says which)", "2:invalid arguments"})
final class SpreadCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Output output = new SharedOptions.Output();

  @Option(names = "--table", required = true, paramLabel = "DIR",
      description = "Folder with table.jsonl and provenance.json.")
  Path tableDir;

  @Option(names = "--confidence", defaultValue = "0.95",
      description = "Two-sided level of the comparisons with uniform rank 8 (default: ${DEFAULT-VALUE}).")
  double confidence;

  @Override
  public Integer call() {
    if (!(confidence > 0 && confidence < 1)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--confidence must be in (0, 1), got " + confidence);
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      RecoveryTable table = RecoveryTable.read(tableDir.resolve("table.jsonl"));
      JsonNode provenance = new ObjectMapper().readTree(tableDir.resolve("provenance.json").toFile());
      RankSpace space = ReplayCommand.space(provenance, true);
      ParameterBudget cost = new ParameterBudget(ReplayCommand.perRank(provenance), Long.MAX_VALUE);
      RankConfig uniform = space.uniform(RankSpace.DEFAULT_PINNED_RANK);
      List<AllocationSpread> spreads = new ArrayList<>();
      for (String task : List.of(provenance.get("validationTask").asText(), provenance.get("testTask").asText())) {
        spreads.add(AllocationSpread.of(table, task, uniform, cost::trainableParameters, confidence));
      }
      SpreadReport report = new SpreadReport(spreads, provenance,
          "rankadaptor " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
      Path written = report.write(output.outputDir);
      out.print(report.markdown());
      out.printf("report written to %s%n", written);
      out.flush();
      return 0;
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }
}
