package org.rankadaptor.examples;

import static org.rankadaptor.examples.SearchConsole.metric;
import static org.rankadaptor.examples.SearchConsole.number;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.rankadaptor.AtomicFiles;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.llama.AdaLoraAdapters;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.LoraMerge;
import org.rankadaptor.dl4j.llama.SvdAdapter;
import org.rankadaptor.dl4j.recover.AdaLoraRecovery;
import org.rankadaptor.dl4j.recover.AdaLoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;

/**
 * {@code rankadaptor run --method adalora}: one AdaLoRA recovery of the pruned model, measured on the target
 * task and written as PEFT's AdaLoRA folder (and a merged model on request), with the ranks it learned and
 * what its adapters cost beside uniform rank 8's.
 */
final class AdaLoraRun {

  private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private AdaLoraRun() {}

  /**
   * Recovers, measures, appends the measurement to the store and writes the output folder.
   *
   * @param settings run settings recorded in result.json
   */
  static void run(LlamaModel pruned, AdaLoraRecoveryRunner runner, Evaluator<RecoveredModel> target,
      ObservationStore store, long seed, Path outputDir, boolean merge, Map<String, String> settings,
      PrintWriter out, PrintWriter err) throws IOException {
    RankConfig initial = runner.initialRanks();
    err.printf(Locale.ROOT, "AdaLoRA: rank %d on every module, masked down to an average of %d over %d steps%n",
        runner.adaLoraSettings().initR(), runner.adaLoraSettings().targetR(), runner.totalSteps());
    err.flush();
    long start = System.nanoTime();
    AdaLoraRecovery recovery = runner.recoverAdaLora(initial, seed);
    RecoveredModel recovered = recovery.recovered();
    Evaluation evaluation = target.evaluate(recovered);
    Map<String, String> provenanceSettings = new TreeMap<>(recovered.provenance().settings());
    provenanceSettings.put("role", "adalora");
    provenanceSettings.put("adapterParameters", Long.toString(recovered.adapters().parameterCount()));
    Observation observation = Observation.succeeded(target.taskId(), initial, evaluation,
        (System.nanoTime() - start) / 1e9,
        new Provenance(seed, runner.fingerprint(), target.fingerprint(), provenanceSettings));
    store.append(observation);

    Map<String, String> metadata = new TreeMap<>();
    metadata.put("rankadaptor.method", "adalora");
    metadata.put("rankadaptor.recovery_seed", Long.toString(seed));
    metadata.put("rankadaptor.task", target.taskId());
    metadata.put("rankadaptor.score", Double.toString(evaluation.score()));
    Path adapters = outputDir.resolve("adapters");
    recovery.writePeft(adapters, "rankadaptor-pruned", SafetensorsDType.F32, metadata);
    if (merge) {
      LlamaCheckpoints.save(LoraMerge.merge(pruned, recovered.adapters()), outputDir.resolve("merged"), metadata);
    }
    long uniform8 = uniformRank8Parameters(pruned, runner);
    AtomicFiles.writeString(outputDir.resolve("result.json"),
        JSON.writeValueAsString(resultJson(recovery, runner, target, evaluation, seed, uniform8, settings)));

    AdaLoraAdapters learned = recovery.adapters();
    out.printf(Locale.ROOT, "%nAdaLoRA on %s: %s %s (%s)%n", target.taskId(), metric(observation),
        number(evaluation.score()), String.format(Locale.ROOT, "%.4f validation loss", recovered.validationLoss()));
    out.printf(Locale.ROOT, "kept %d of %d singular triplets (target_r %d per module on average); "
        + "adapter parameters %,d against uniform rank 8's %,d%n", learned.keptTriplets(),
        (long) runner.adaLoraSettings().initR() * learned.moduleCount(), runner.adaLoraSettings().targetR(),
        recovered.adapters().parameterCount(), uniform8);
    out.printf(Locale.ROOT, "ranks learned per layer: %s%n", learned.describeRanks());
    out.printf(Locale.ROOT, "%nwritten to %s (result.json, adapters/ in PEFT's ADALORA format%s)%n", outputDir,
        merge ? ", merged/" : "");
    out.flush();
  }

  /** LoRA parameters of rank 8 on every layer of the pruned model, on the runner's targets. */
  static long uniformRank8Parameters(LlamaModel pruned, AdaLoraRecoveryRunner runner) {
    long[] perRank = LoraAdapters.parametersPerRank(pruned.config(), runner.settings().targets());
    return new ParameterBudget(perRank, Long.MAX_VALUE)
        .trainableParameters(RankConfig.uniform(pruned.config().nLayers(), 8));
  }

  private static ObjectNode resultJson(AdaLoraRecovery recovery, AdaLoraRecoveryRunner runner,
      Evaluator<RecoveredModel> target, Evaluation evaluation, long seed, long uniform8, Map<String, String> settings) {
    ObjectNode root = JSON.createObjectNode();
    root.put("method", "adalora");
    root.put("task", target.taskId());
    root.put("measured", evaluation.score());
    root.set("metrics", JSON.valueToTree(evaluation.metrics()));
    root.put("recoverySeed", seed);
    root.put("recoveryFingerprint", runner.fingerprint());
    root.put("totalSteps", recovery.totalSteps());
    root.set("adalora", JSON.valueToTree(runner.adaLoraSettings().describe()));
    AdaLoraAdapters learned = recovery.adapters();
    root.put("keptTriplets", learned.keptTriplets());
    root.put("tripletBudget", (long) runner.adaLoraSettings().targetR() * learned.moduleCount());
    root.put("adapterParameters", recovery.recovered().adapters().parameterCount());
    root.put("keptParametersWithSingularValues", learned.keptParameterCount());
    root.put("uniformRank8Parameters", uniform8);
    ObjectNode ranks = root.putObject("learnedRanks");
    for (int l = 0; l < learned.nLayers(); l++) {
      for (Map.Entry<LoraTarget, SvdAdapter> e : learned.layer(l).entrySet()) {
        ranks.put("layers." + l + "." + e.getKey().layerPath(), e.getValue().rank());
      }
    }
    root.set("meanLayerRanks", JSON.valueToTree(learned.meanLayerRanks()));
    root.set("validationLosses", JSON.valueToTree(recovery.recovered().log().validations()));
    root.put("keptStep", recovery.recovered().log().bestStep());
    root.set("settings", JSON.valueToTree(settings));
    return root;
  }
}
