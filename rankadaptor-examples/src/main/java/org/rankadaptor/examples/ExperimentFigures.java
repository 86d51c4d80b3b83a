package org.rankadaptor.examples;

import static org.rankadaptor.examples.ExperimentStats.bestSoFar;
import static org.rankadaptor.examples.ExperimentStats.ppl;

import java.util.ArrayList;
import java.util.List;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.Observation;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.examples.report.HeatMap;
import org.rankadaptor.examples.report.LineChart;

/** The experiment report's figures: the chosen ranks as a heat map, and each setting's search as line charts. */
final class ExperimentFigures {

  private ExperimentFigures() {}

  /** The ranks RankAdaptor chose, per setting and layer of the unpruned model; removed blocks marked. */
  static HeatMap ranks(LlamaConfig original, List<SettingRun> runs) {
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

  /** Predicted (with its standard deviation) and measured score of each target evaluation. */
  static LineChart predicted(SettingRun run) {
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

  /** Best validation perplexity so far against real fine-tunes, RankAdaptor and random search, with references. */
  static LineChart fineTunes(SettingRun run) {
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
}
